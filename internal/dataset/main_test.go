package dataset

import "flag"

// update makes golden-file tests rewrite their files: go test ./internal/dataset -update
var update = flag.Bool("update", false, "rewrite golden files")
