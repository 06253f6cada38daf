// Package shim exposes the Terraform docker provider's SDKv2 provider to the Pulumi bridge.
package shim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// NewProvider returns kreuzwerker's SDKv2 docker provider, as pulumi-docker's patch does.
func NewProvider() *schema.Provider {
	return provider.New("dev")()
}
