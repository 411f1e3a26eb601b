// Command pulumi-resource-kubernetes serves the Pulumi Kubernetes provider
// from the public provider module. The upstream main package embeds two files
// that its Makefile generates (schema-embed.json, terraform-mapping-embed.json)
// and that therefore are not in the module zip; scripts/counterparts/
// build-pulumi.sh generates them next to this file from the module's own
// schema.json and terraform-mapping.json (see genembed.go) before building.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
