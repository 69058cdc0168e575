package config

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// WriteRedacted writes one "NAME = value  # source" line per setting, in a
// fixed order, where NAME is the environment variable and source one of
// default, flag, env or file. Secrets print as [redacted] and a database
// password as xxxxx; an empty value prints as "".
func (c Config) WriteRedacted(w io.Writer) error {
	var b strings.Builder
	for i := range settings {
		v := settings[i].show(&c)
		if v == "" {
			v = `""`
		}
		fmt.Fprintf(&b, "%s = %s  # %s\n", settings[i].env, v, c.origins[i])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// redactedConfig has Config's fields and none of its methods, so Format can
// print it with the ordinary struct formatting.
type redactedConfig Config

// Format prints c as fmt would, with the database password redacted; the
// secrets redact themselves.
func (c Config) Format(f fmt.State, verb rune) {
	r := redactedConfig(c)
	r.DB = c.RedactedDB()
	fmt.Fprintf(f, fmt.FormatString(f, verb), r)
}

// LogValue logs c as a group of its settings, redacted as in WriteRedacted.
func (c Config) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(settings))
	for i := range settings {
		attrs = append(attrs, slog.String(settings[i].env, settings[i].show(&c)))
	}
	return slog.GroupValue(attrs...)
}
