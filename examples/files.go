package examples

import "embed"

// Manifests holds every example's manifest as <name>/custos.yaml, for
// `custos init --from NAME`.
//
//go:embed */custos.yaml
var Manifests embed.FS
