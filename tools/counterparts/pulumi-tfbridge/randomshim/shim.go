// Package maasshim hands the Terraform random provider (plugin framework) to
// the Pulumi bridge.
package maasshim

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"

	random "github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// NewProvider returns the upstream Terraform provider.
func NewProvider() provider.Provider { return random.New() }
