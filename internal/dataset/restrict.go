package dataset

import (
	"slices"
	"strings"
	"time"
)

// Restricted is what a string restriction flag holds while the row is
// restricted.
const Restricted = "restricted"

// restrictTypes are the data types a restriction flag may have; "" is boolean.
var restrictTypes = []string{"", "boolean", "integer", "string", "datetime"}

// checkRestrictFlag reports a restriction flag that names no field of the
// collection, or one that cannot be set and cleared row by row.
func (c *checker) checkRestrictFlag(path string, col Collection, hasPK bool) {
	if col.RestrictFlag == "" {
		return
	}
	at := path + ".restrict_flag"
	var flag *Field
	for i := range col.Fields {
		if col.Fields[i].Name == col.RestrictFlag {
			flag = &col.Fields[i]
		}
	}
	switch {
	case flag == nil:
		c.errorf(at, "restriction flag %q is not a field of collection %q", truncate(col.RestrictFlag, 40), col.Name)
	case flag.PrimaryKey:
		c.errorf(at, "restriction flag %q is a primary key: it locates the row", flag.Name)
	case !contains(restrictTypes, flag.DataType):
		c.errorf(at, "restriction flag %q is %s: want boolean, integer, string or datetime", flag.Name, flag.DataType)
	case !hasPK:
		c.errorf(at, "collection %q has a restriction flag but no primary key: rows are flagged by key", col.Name)
	}
}

// checkHeldFor reports a customer field that names no field of the
// collection, or one that cannot single out the customer's rows.
func (c *checker) checkHeldFor(path string, col Collection, hasPK bool) {
	if col.HeldFor == "" {
		return
	}
	at := path + ".held_for"
	i := slices.IndexFunc(col.Fields, func(f Field) bool { return f.Name == col.HeldFor })
	switch {
	case i < 0:
		c.errorf(at, "customer field %q is not a field of collection %q", truncate(col.HeldFor, 40), col.Name)
	case !hasPK:
		c.errorf(at, "collection %q is held for customers but has no primary key: the end of an entrustment deletes its rows by key", col.Name)
	}
}

// RestrictValue is what the flag field f holds for a restricted row
// (restricted) or a row whose restriction is lifted: true/false for a
// boolean, 1/0 for an integer, "restricted"/NULL for a string, the time
// of the restriction/NULL for a datetime. nil is NULL.
func (f Field) RestrictValue(restricted bool, now time.Time) any {
	switch f.DataType {
	case "integer":
		if restricted {
			return int64(1)
		}
		return int64(0)
	case "string":
		if restricted {
			return Restricted
		}
		return nil
	case "datetime":
		if restricted {
			return now.UTC()
		}
		return nil
	default:
		return restricted
	}
}

// IsRestricted reports whether v, as read from the flag field f, marks
// the row restricted. NULL never does.
func (f Field) IsRestricted(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case string:
		switch f.DataType {
		case "", "boolean", "integer":
			return x == "1" || strings.EqualFold(x, "true") || x == "t"
		}
		return x != "" // a string flag, or a time read back as text (SQLite)
	case []byte:
		return f.IsRestricted(string(x))
	default:
		return true // a time, or anything else written there
	}
}
