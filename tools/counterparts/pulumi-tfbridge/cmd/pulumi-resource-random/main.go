// Command pulumi-resource-random is a stand-in for the Pulumi random provider
// (github.com/pulumi/pulumi-random), whose provider module the Go module proxy
// does not serve here. It bridges the same upstream Terraform provider that
// pulumi-random 4.21.x bridges, with the same token scheme
// (random_password -> random:index/randomPassword:RandomPassword), so programs
// written against the @pulumi/random npm SDK run unchanged.
//
// Not reproduced: the generated Pulumi package schema (GetSchema returns a
// stub) and the bridge metadata (auto-aliases), both of which pulumi-random
// generates with tfgen at release time and only matter for code generation.
package main

import (
	"context"
	"errors"
	"fmt"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/terraform-providers/terraform-provider-random/maasshim"
)

// Version is set with -ldflags "-X main.Version=...".
var Version = "0.0.0-dev"

func providerInfo() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            pf.ShimProvider(maasshim.NewProvider()),
		Name:         "random",
		Version:      Version,
		MetadataInfo: tfbridge.NewProviderMetadata(nil),
		Resources: map[string]*tfbridge.ResourceInfo{
			// random_bytes has no "id" attribute; use its base64 value.
			"random_bytes": {ComputeID: bytesID},
		},
		EnableAccurateBridgePreview: true,
		EnableRawStateDelta:         true,
	}
	info.MustComputeTokens(tokens.SingleModule("random_", "index",
		func(module, name string) (string, error) {
			return tokens.MakeStandard("random")(module, "Random"+name)
		}))
	return info
}

func bytesID(_ context.Context, state resource.PropertyMap) (resource.ID, error) {
	b, ok := state["base64"]
	if !ok {
		return "", errors.New("random_bytes: no base64 property in state")
	}
	if b.IsSecret() {
		b = b.SecretValue().Element
	}
	if !b.IsString() {
		return "", fmt.Errorf("random_bytes: base64 is %v, not a string", b.TypeString())
	}
	return resource.ID(b.StringValue()), nil
}

func main() {
	schema := fmt.Appendf(nil, `{"name":"random","version":%q}`, Version)
	pf.Main(context.Background(), "random", providerInfo(), pf.ProviderMetadata{PackageSchema: schema})
}
