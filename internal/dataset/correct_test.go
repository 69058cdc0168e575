package dataset

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseCorrect: what `correct` may say, and where a field marked
// correctable cannot be corrected, each problem at its place in the file.
func TestParseCorrect(t *testing.T) {
	tests := []struct {
		name   string
		fields string
		want   []string          // problems; nil: parses
		format map[string]string // field → Correct, when it parses
	}{
		{
			name: "true, false and formats",
			fields: `          - {name: id, primary_key: true}
          - {name: email, categories: [basic.email], identity: email, correct: email}
          - {name: full_name, categories: [basic.name], correct: name}
          - {name: note, categories: [basic.profile], correct: true}
          - {name: born, categories: [basic.birth_date], data_type: date, correct: date}
          - {name: city, categories: [basic.address], correct: false}
`,
			format: map[string]string{"id": "", "email": "email", "full_name": "name", "note": "text", "born": "date", "city": ""},
		},
		{
			name: "unknown format",
			fields: `          - {name: email, categories: [basic.email], identity: email}
          - {name: full_name, categories: [basic.name], correct: nmae}
`,
			want: []string{`v.yaml:10:66: unknown value "nmae" (did you mean "name"?): want one of true, false, text, name, email, phone, address, date`},
		},
		{
			name: "not a scalar",
			fields: `          - {name: email, categories: [basic.email], identity: email, correct: [email]}
`,
			want: []string{`v.yaml:9:80: want true, false or a format (text, name, email, phone, address, date), got a list`},
		},
		{
			name: "primary key, no category, wrong type, identity format",
			fields: `          - {name: id, primary_key: true, categories: [account.id], correct: true}
          - {name: email, categories: [basic.email], identity: email, correct: text}
          - {name: flag, correct: true}
          - {name: born, categories: [basic.birth_date], data_type: datetime, correct: name}
          - {name: points, categories: [basic.profile], data_type: integer, correct: text}
`,
			want: []string{
				`v.yaml:9:78: primary key "id" cannot be corrected: it locates the row`,
				`v.yaml:10:80: identity field "email" is looked up as a normalised email: give it format email`,
				`v.yaml:11:35: field "flag" has no category: a correction is asked for by category, so nothing would reach it`,
				`v.yaml:12:88: field "born" is a datetime: only the date format can correct it`,
				`v.yaml:13:86: field "points" is integer: corrections write text or dates`,
			},
		},
		{
			name: "a link corrected on one side only",
			fields: `          - {name: email, categories: [basic.email], identity: email, correct: email}
      - name: report
        fields:
          - name: email
            categories: [basic.email]
            references: {collection: customer, field: email}
`,
			want: []string{`v.yaml:14:25: field "email" is not correctable and the field it references, customer.email, is: correcting one would break the link`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := head + "      - name: customer\n        fields:\n" + tt.fields
			d, got := parseProblems(t, in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("problems (-want +got):\n%s", diff)
			}
			if d == nil {
				return
			}
			formats := map[string]string{}
			for _, f := range d.Datastores[0].Collections[0].Fields {
				formats[f.Name] = f.Correct
			}
			if diff := cmp.Diff(tt.format, formats); diff != "" {
				t.Errorf("formats (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCorrectedValue: each format takes what a person would write and
// refuses the rest, without quoting the value in the error.
func TestCorrectedValue(t *testing.T) {
	tests := []struct {
		format, in string
		want       string // "" → refused
	}{
		{CorrectName, "  Jane Customer ", "Jane Customer"},
		{CorrectName, "张三", "张三"},
		{CorrectName, "12345", ""},
		{CorrectName, "jane@example.com", ""},
		{CorrectName, "Jane\x00", ""},
		{CorrectName, strings.Repeat("a", 201), ""},
		{CorrectName, "   ", ""},
		{CorrectEmail, " Jane@Example.COM ", "jane@example.com"},
		{CorrectEmail, "not-an-email", ""},
		{CorrectPhone, "+86 139 0013 9000", "+8613900139000"},
		{CorrectPhone, "call me", ""},
		{CorrectAddress, "1 Example Street\nExampletown", "1 Example Street\nExampletown"},
		{CorrectAddress, "1 Example Street\x07", ""},
		{CorrectDate, "1990-02-28", "1990-02-28"},
		{CorrectDate, "1990-02-30", ""},
		{CorrectDate, "28/02/1990", ""},
		{CorrectText, "likes\tcats", "likes\tcats"},
		{CorrectText, "\xff", ""},
	}
	for _, tt := range tests {
		t.Run(tt.format+"/"+tt.in, func(t *testing.T) {
			got, err := CorrectedValue(tt.format, tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("accepted, wrote %q", got)
				}
				if !errors.Is(err, ErrInvalidCorrection) {
					t.Errorf("error %v does not wrap ErrInvalidCorrection", err)
				}
				if v := strings.TrimSpace(tt.in); len(v) > 3 && strings.Contains(err.Error(), v) {
					t.Errorf("error quotes the value: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzCorrectedValue: no value makes a format panic or quote it back.
func FuzzCorrectedValue(f *testing.F) {
	for _, s := range []string{"Jane", "a@b.c", "+8613900139000", "1990-01-01", "\x00", "张三"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, format := range correctFormats {
			_, err := CorrectedValue(format, v)
			if err != nil && len(v) > 8 && strings.Contains(err.Error(), v) {
				t.Fatalf("%s: error quotes the value", format)
			}
		}
	})
}
