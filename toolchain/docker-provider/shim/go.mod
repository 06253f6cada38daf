// Stands in for the one-file patch pulumi-docker applies to its upstream: a package inside
// the upstream's import path, so that it may import internal/provider.
module github.com/terraform-providers/terraform-provider-docker/shim

go 1.26
