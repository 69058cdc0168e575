package identity

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMask(t *testing.T) {
	tests := []struct{ kind, value, want string }{
		{"phone", "+8613800138000", "+86138****8000"},
		{"phone", "+442079460958", "+4420****0958"},
		{"phone", "+12345678", "+****5678"},
		{"phone", "13800138000", "13***00"}, // not normalised: generic masking
		{"email", "alice@example.com", "a***@example.com"},
		{"email", "élodie@exemple.fr", "é***@exemple.fr"},
		{"email", "no-at-sign.example.com", "no***om"},
		{"device_id", "3f2504e0-4f89-11d3", "3f***d3"},
		{"user_id", "张三丰李四王五", "***"},
		{"user_id", "张三丰李四王五赵", "张三***五赵"},
		{"user_id", "u-1234", "***"},
		{"user_id", "", "***"},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.value, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Mask(tt.kind, tt.value)); diff != "" {
				t.Errorf("Mask(%q, %q) (-want +got):\n%s", tt.kind, tt.value, diff)
			}
		})
	}
}
