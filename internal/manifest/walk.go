package manifest

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// WalkTexts calls fn for every Text present in v (a manifest or part of one)
// with its path, such as services[2].description, in a deterministic order.
func WalkTexts(v any, fn func(path string, t Text)) {
	walkValue(reflect.ValueOf(v), "", fn)
}

func walkValue(v reflect.Value, path string, fn func(string, Text)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkValue(v.Elem(), path, fn)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			key := FieldKey(t.Field(i))
			if key == "" {
				continue
			}
			sub := key
			if path != "" {
				sub = path + "." + key
			}
			walkValue(v.Field(i), sub, fn)
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			walkValue(v.Index(i), fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case reflect.Map:
		if v.Type() == textType {
			if !v.IsNil() { // present, even if empty: {} still needs its languages
				fn(path, v.Interface().(Text))
			}
			return
		}
		ks := v.MapKeys()
		sort.Slice(ks, func(i, j int) bool { return ks[i].String() < ks[j].String() })
		for _, k := range ks {
			walkValue(v.MapIndex(k), path+"."+k.String(), fn)
		}
	}
}

// FieldKey is the manifest key of a struct field, or "" for fields that are
// not part of the manifest.
func FieldKey(f reflect.StructField) string {
	key := strings.Split(f.Tag.Get("yaml"), ",")[0]
	if key == "-" {
		return ""
	}
	return key
}
