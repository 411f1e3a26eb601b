// Command pulumi-resource-keycloak is a stand-in for the Pulumi Keycloak
// provider (github.com/pulumi/pulumi-keycloak), whose provider module the Go
// module proxy does not serve here (and which could not be built from a module
// zip anyway: it replaces its Terraform provider with a git submodule, ../upstream).
//
// It bridges github.com/keycloak/terraform-provider-keycloak at the only
// version the proxy serves (see /work/notes/pulumi-counterparts.md) and maps
// it onto the tokens of the @pulumi/keycloak npm SDK: resources of module
// "index" unless their Terraform name starts with one of the module prefixes
// below, plus the renames that SDK carries. Names the SDK auto-generates
// (realm, OpenID client id, flow aliases) are auto-named as the SDK documents.
//
// Not reproduced: the generated package schema (GetSchema returns a stub) and
// bridge metadata, which only matter for code generation.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/keycloak/terraform-provider-keycloak/provider"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens/fallbackstrat"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	ptokens "github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
)

// Version is set with -ldflags "-X main.Version=...".
var Version = "0.0.0-dev"

// Terraform name prefixes that the npm SDK puts in their own module.
var modules = []string{"authentication_", "ldap_", "oidc_", "openid_", "saml_"}

// Resources whose npm SDK name is not the one the module rule gives.
var renamed = map[string]string{
	"keycloak_attribute_to_role_identity_provider_mapper": "index:AttributeToRoleIdentityMapper",
	"keycloak_custom_identity_provider_mapper":            "index:CustomIdentityProviderMapping",
	"keycloak_hardcoded_role_identity_provider_mapper":    "index:HardcodedRoleIdentityMapper",
	"keycloak_realm_keystore_java_keystore":               "index:RealmKeystoreJavaGenerated",
	"keycloak_openid_client_client_policy":                "openid:ClientPolicy",
	"keycloak_saml_client_default_scopes":                 "saml:ClientDefaultScope",
}

// Data sources likewise.
var renamedData = map[string]string{
	"keycloak_authentication_execution": "index:getAuthenticationExecution",
	"keycloak_authentication_flow":      "index:getAuthenticationFlow",
}

// Resource fields (Terraform name -> Pulumi name) that get an auto-generated
// name when left unset.
var autoNamed = map[string][2]string{
	"keycloak_realm":                           {"realm", "realm"},
	"keycloak_openid_client":                   {"client_id", "clientId"},
	"keycloak_oidc_google_identity_provider":   {"client_id", "clientId"},
	"keycloak_authentication_flow":             {"alias", "alias"},
	"keycloak_authentication_subflow":          {"alias", "alias"},
	"keycloak_authentication_execution_config": {"alias", "alias"},
}

// token turns "module:Name" into "keycloak:module/name:Name".
func token(modAndName string) string {
	mod, name, _ := strings.Cut(modAndName, ":")
	tok, err := tokens.MakeStandard("keycloak")(mod, name)
	if err != nil {
		panic(err)
	}
	return tok
}

func providerInfo() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            shimv2.NewProvider(provider.KeycloakProvider(nil)),
		Name:         "keycloak",
		Version:      Version,
		MetadataInfo: tfbridge.NewProviderMetadata(nil),
		Config: map[string]*tfbridge.SchemaInfo{
			"client_timeout": {Default: &tfbridge.DefaultInfo{
				Value: 5, EnvVars: []string{"KEYCLOAK_CLIENT_TIMEOUT"},
			}},
		},
		Resources:   map[string]*tfbridge.ResourceInfo{},
		DataSources: map[string]*tfbridge.DataSourceInfo{},
	}
	for tf, tok := range renamed {
		info.Resources[tf] = &tfbridge.ResourceInfo{Tok: ptokens.Type(token(tok))}
	}
	for tf, tok := range renamedData {
		info.DataSources[tf] = &tfbridge.DataSourceInfo{Tok: ptokens.ModuleMember(token(tok))}
	}
	for tf, names := range autoNamed {
		r := info.Resources[tf]
		if r == nil {
			r = &tfbridge.ResourceInfo{}
			info.Resources[tf] = r
		}
		r.Fields = map[string]*tfbridge.SchemaInfo{names[0]: tfbridge.AutoName(names[1], 255, "-")}
	}

	strategy, err := fallbackstrat.KnownModulesWithInferredFallback(
		&info, "keycloak_", "index", modules, tokens.MakeStandard("keycloak"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	info.MustComputeTokens(strategy)
	info.SetAutonaming(255, "-")
	return info
}

func main() {
	schema := fmt.Appendf(nil, `{"name":"keycloak","version":%q}`, Version)
	tfbridge.Main("keycloak", Version, providerInfo(), schema)
}
