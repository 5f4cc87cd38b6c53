// SPDX-License-Identifier: Apache-2.0
package connpool

import (
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// richStats is a stats document with the optional parts filled in: a last error (a failed
// create), a leak, a scheduled retry.
func richStats(t *testing.T) string {
	t.Helper()
	f := &fakeFactory{}
	f.failCreates.Store(1)
	p := newPool(t, f, Config{"max_size": 2, "leak_threshold_ms": 1})
	t.Cleanup(func() { p.Close() })
	lease, err := p.Acquire(long)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lease.Release() })
	var js string
	waitUntil(t, long, "a leak in the stats", func() bool {
		js, err = p.StatsJSON()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Contains(js, `"held_ms"`)
	})
	if !strings.Contains(js, `"code_name"`) {
		t.Fatalf("no last_error in %s", js)
	}
	return js
}

// TestStatsStructMatchesTheJSON decodes one stats document twice, into Stats and into a
// map, and compares them key by key through Stats' json tags: a key the JSON has and Stats
// lacks fails, and so does a Stats field the JSON lacks, or any value that differs.
func TestStatsStructMatchesTheJSON(t *testing.T) {
	js := richStats(t)
	var raw map[string]any
	if err := json.Unmarshal([]byte(js), &raw); err != nil {
		t.Fatal(err)
	}
	var s Stats
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		t.Fatal(err)
	}
	// Stats as JSON again, with its own tags: what the struct holds, keyed by those tags.
	back, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	var typed map[string]any
	if err := json.Unmarshal(back, &typed); err != nil {
		t.Fatal(err)
	}
	compareJSON(t, "", raw, typed)
}

func compareJSON(t *testing.T, path string, raw, typed any) {
	t.Helper()
	switch r := raw.(type) {
	case map[string]any:
		ty, ok := typed.(map[string]any)
		if !ok {
			t.Errorf("%s: JSON has an object, Stats has %T", path, typed)
			return
		}
		for _, k := range sortedKeys(r) {
			tv, ok := ty[k]
			if !ok {
				t.Errorf("%s.%s: in the JSON, no field of Stats", path, k)
				continue
			}
			compareJSON(t, path+"."+k, r[k], tv)
		}
		for _, k := range sortedKeys(ty) {
			if _, ok := r[k]; !ok {
				t.Errorf("%s.%s: a field of Stats, not in the JSON", path, k)
			}
		}
	case []any:
		ty, ok := typed.([]any)
		if !ok || len(ty) != len(r) {
			t.Errorf("%s: JSON %v, Stats %v", path, raw, typed)
			return
		}
		for i := range r {
			compareJSON(t, path+"[]", r[i], ty[i])
		}
	default:
		if !reflect.DeepEqual(raw, typed) {
			t.Errorf("%s: JSON %v (%T), Stats %v (%T)", path, raw, raw, typed, typed)
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestStatsStructCoversTheSchema walks docs/stats.schema.json (the source of truth) and checks
// that every property, nested ones too, has a Stats field with its json tag, and that Stats
// has no field the schema does not define. CTest passes the schema's path in the source tree.
func TestStatsStructCoversTheSchema(t *testing.T) {
	path := os.Getenv("CONNPOOL_STATS_SCHEMA")
	if path == "" {
		t.Skip("CONNPOOL_STATS_SCHEMA is not set (CTest sets it to docs/stats.schema.json)")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	defs, _ := schema["$defs"].(map[string]any)
	n := coverSchema(t, "", schema, reflect.TypeOf(Stats{}), defs)
	if n < 60 {
		t.Fatalf("walked only %d schema properties: is the walk broken?", n)
	}
}

// objectOf resolves $ref, oneOf/anyOf (the object alternative) and array items to the object
// schema whose properties a struct must have; nil for a scalar.
func objectOf(s map[string]any, defs map[string]any) map[string]any {
	if ref, ok := s["$ref"].(string); ok {
		d, _ := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		return objectOf(d, defs)
	}
	if _, ok := s["properties"]; ok {
		return s
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		alts, _ := s[k].([]any)
		for _, a := range alts {
			if m, ok := a.(map[string]any); ok {
				if o := objectOf(m, defs); o != nil {
					return o
				}
			}
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		return objectOf(items, defs)
	}
	return nil
}

func coverSchema(t *testing.T, path string, obj map[string]any, typ reflect.Type, defs map[string]any) int {
	t.Helper()
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct {
		t.Errorf("%s: the schema has an object, Stats has %v", path, typ)
		return 0
	}
	fields := map[string]reflect.StructField{}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		fields[strings.Split(f.Tag.Get("json"), ",")[0]] = f
	}
	props, _ := obj["properties"].(map[string]any)
	n := 0
	for _, k := range sortedKeys(props) {
		n++
		f, ok := fields[k]
		if !ok {
			t.Errorf("%s.%s: in the schema, no field of Stats", path, k)
			continue
		}
		p, _ := props[k].(map[string]any)
		if sub := objectOf(p, defs); sub != nil {
			n += coverSchema(t, path+"."+k, sub, f.Type, defs)
		}
	}
	for k := range fields {
		if _, ok := props[k]; !ok {
			t.Errorf("%s.%s: a field of Stats, not in the schema", path, k)
		}
	}
	return n
}
