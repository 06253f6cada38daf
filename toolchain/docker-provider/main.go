// Command pulumi-resource-docker serves the Terraform docker provider as the Pulumi "docker"
// package, with the resource tokens of pulumi-docker's Python SDK (Container, Network,
// Volume, RemoteImage, ...). pulumi-docker's native, buildkit-based Image resource is not
// part of it: build images with RemoteImage's `build` block instead.
package main

import (
	"context"
	"unicode"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	tfbridgetokens "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/terraform-providers/terraform-provider-docker/shim"
)

// version is stamped at build time (-X main.version=...) with the pulumi-docker SDK release.
var version = "0.0.0-dev"

const pkg, mod = "docker", "index"

// resource makes a token such as docker:index/remoteImage:RemoteImage.
func resource(name string) tokens.Type {
	lower := string(unicode.ToLower(rune(name[0]))) + name[1:]
	return tokens.Type(pkg + ":" + mod + "/" + lower + ":" + name)
}

func dataSource(name string) tokens.ModuleMember {
	lower := string(unicode.ToLower(rune(name[0]))) + name[1:]
	return tokens.ModuleMember(pkg + ":" + mod + "/" + lower + ":" + name)
}

func providerInfo() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:       shimv2.NewProvider(shim.NewProvider()),
		Name:    pkg,
		Version: version,
		Config: map[string]*tfbridge.SchemaInfo{
			"host": {Default: &tfbridge.DefaultInfo{
				EnvVars: []string{"DOCKER_HOST"},
				ComputeDefault: func(context.Context, tfbridge.ComputeDefaultOptions) (interface{}, error) {
					return "unix:///var/run/docker.sock", nil
				},
			}},
			"registry_auth": {Name: "registryAuth", MaxItemsOne: tfbridge.False()},
		},
		// The same names pulumi-docker gives the upstream's resources.
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_config": {Tok: resource("ServiceConfig")},
			"docker_container": {
				Tok:                 resource("Container"),
				DeleteBeforeReplace: true,
				Fields: map[string]*tfbridge.SchemaInfo{
					"command":           {Name: "command"},
					"networks_advanced": {Name: "networksAdvanced"},
				},
			},
			"docker_image": {
				Tok:    resource("RemoteImage"),
				Fields: map[string]*tfbridge.SchemaInfo{"name": {Name: "name"}},
			},
			"docker_network":        {Tok: resource("Network")},
			"docker_secret":         {Tok: resource("Secret")},
			"docker_service":        {Tok: resource("Service")},
			"docker_volume":         {Tok: resource("Volume")},
			"docker_registry_image": {Tok: resource("RegistryImage")},
			"docker_plugin":         {Tok: resource("Plugin")},
			"docker_tag":            {Tok: resource("Tag")},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_network":        {Tok: dataSource("getNetwork")},
			"docker_registry_image": {Tok: dataSource("getRegistryImage")},
			"docker_plugin":         {Tok: dataSource("getPlugin")},
			"docker_image":          {Tok: dataSource("getRemoteImage")},
			"docker_logs":           {Tok: dataSource("getLogs")},
		},
	}
	info.MustComputeTokens(tfbridgetokens.SingleModule("docker_", mod, tfbridgetokens.MakeStandard(pkg)))
	info.SetAutonaming(255, "-")
	return info
}

func main() {
	// The package schema is only served to `pulumi package get-schema`; deployments use the
	// Python SDK's own types, so an empty schema keeps the build to one step.
	tfbridge.Main(pkg, version, providerInfo(), []byte("{}"))
}
