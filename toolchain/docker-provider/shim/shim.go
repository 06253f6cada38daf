// Package shim exposes the Terraform docker provider's SDKv2 provider to the Pulumi bridge,
// with one change of Slipway's: networks are created, read and removed without the
// upstream's fixed waits (network.go).
package shim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// NewProvider returns kreuzwerker's SDKv2 docker provider, as pulumi-docker's patch does,
// with docker_network's create, read and delete prompt (withPromptNetworkReads).
func NewProvider() *schema.Provider {
	p := provider.New("dev")()
	withPromptNetworkReads(p.ResourcesMap["docker_network"])
	return p
}
