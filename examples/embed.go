// Package examples carries the example manifests into the binary, so that
// `custos serve --demo` works from any directory.
package examples

import _ "embed"

// Starter is the manifest of the fictional Qingyun Notes service.
//
//go:embed starter/custos.yaml
var Starter []byte

// StarterV2 is the next version of Starter (3.1): the demo publishes it
// after Starter, so that there are versions to compare and consents to ask
// for again.
//
//go:embed starter/custos-v2.yaml
var StarterV2 []byte
