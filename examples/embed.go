// Package examples carries the example manifests into the binary, so that
// `custos serve --demo` works from any directory.
package examples

import _ "embed"

// Starter is the manifest of the fictional Qingyun Notes service.
//
//go:embed starter/custos.yaml
var Starter []byte
