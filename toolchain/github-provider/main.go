// Command pulumi-resource-github serves the Terraform GitHub provider as the Pulumi "github"
// package, with the resource tokens of pulumi-github's Python SDK (ActionsSecret,
// RepositoryFile, RepositoryWebhook, ...). `baseUrl` points it at any GitHub-style REST API.
package main

import (
	"github.com/integrations/terraform-provider-github/v6/github"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	tfbridgetokens "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
)

// version is stamped at build time (-X main.version=...) with the pulumi-github SDK release.
var version = "0.0.0-dev"

const pkg, mod = "github", "index"

func providerInfo() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:       shimv2.NewProvider(github.NewProvider(version, "")()),
		Name:    pkg,
		Version: version,
		Config: map[string]*tfbridge.SchemaInfo{
			"base_url": {Default: &tfbridge.DefaultInfo{
				EnvVars: []string{"GITHUB_BASE_URL"}, Value: "https://api.github.com/",
			}},
			"token": {Default: &tfbridge.DefaultInfo{EnvVars: []string{"GITHUB_TOKEN"}}, Secret: tfbridge.True()},
		},
		// pulumi-github's settings for the resources that differ from the standard mapping.
		Resources: map[string]*tfbridge.ResourceInfo{
			"github_actions_environment_secret": {DeleteBeforeReplace: true},
			"github_repository_collaborator":    {DeleteBeforeReplace: true},
			"github_repository_deploy_key":      {DeleteBeforeReplace: true},
		},
		EnableZeroDefaultSchemaVersion: true,
		EnableAccurateBridgePreview:    true,
		EnableRawStateDelta:            true,
	}
	info.MustComputeTokens(tfbridgetokens.SingleModule("github_", mod, tfbridgetokens.MakeStandard(pkg)))
	info.SetAutonaming(255, "-")
	return info
}

func main() {
	// The package schema is only served to `pulumi package get-schema`; deployments use the
	// Python SDK's own types, so an empty schema keeps the build to one step.
	tfbridge.Main(pkg, version, providerInfo(), []byte("{}"))
}
