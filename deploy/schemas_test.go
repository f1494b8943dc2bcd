// SPDX-License-Identifier: Apache-2.0

package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The Kubernetes API publishes its types as one OpenAPI v2 document
// (api/openapi-spec/swagger.json in the k8s.io/kubernetes module); kubeconform
// wants a JSON schema per kind. writeSchemas makes them: each kind's
// definition with every reference replaced by what it names, and, like
// the API server, refusing fields a type does not have.

// Types whose OpenAPI form is a string but which also take numbers.
var lenientTypes = map[string]any{
	"io.k8s.apimachinery.pkg.util.intstr.IntOrString": map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}},
	"io.k8s.apimachinery.pkg.api.resource.Quantity":   map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}},
}

// writeSchemas writes dir/<kind>[-<group>]-<version>.json, kubeconform's
// default naming ({{ .ResourceKind }}{{ .KindSuffix }}), for every kind in
// the OpenAPI document at swaggerPath, and returns how many it wrote.
func writeSchemas(swaggerPath, dir string) (int, error) {
	b, err := os.ReadFile(swaggerPath)
	if err != nil {
		return 0, err
	}
	var doc struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return 0, fmt.Errorf("%s: %w", swaggerPath, err)
	}
	defs := map[string]any{}
	for name, d := range doc.Definitions {
		defs[name] = d
	}
	for name, d := range lenientTypes {
		defs[name] = d
	}
	n := 0
	for name, d := range doc.Definitions {
		gvks, _ := d["x-kubernetes-group-version-kind"].([]any)
		for _, g := range gvks {
			gvk, _ := g.(map[string]any)
			group, _ := gvk["group"].(string)
			version, _ := gvk["version"].(string)
			kind, _ := gvk["kind"].(string)
			schema := inline(d, defs, map[string]bool{name: true}).(map[string]any)
			schema["$schema"] = "http://json-schema.org/schema#"
			file := strings.ToLower(kind)
			if group != "" {
				file += "-" + strings.ToLower(strings.Split(group, ".")[0])
			}
			file += "-" + strings.ToLower(version) + ".json"
			out, err := json.Marshal(schema)
			if err != nil {
				return n, err
			}
			if err := os.WriteFile(filepath.Join(dir, file), out, 0o644); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// inline returns node with each {"$ref": "#/definitions/X"} replaced by X,
// inlined in turn; a type that contains itself (JSONSchemaProps) becomes
// {} where it recurs. An object with properties and no additionalProperties
// refuses others.
func inline(node any, defs map[string]any, within map[string]bool) any {
	switch v := node.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = inline(e, defs, within)
		}
		return out
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok {
			name := ref[strings.LastIndexByte(ref, '/')+1:]
			if within[name] || defs[name] == nil {
				return map[string]any{}
			}
			within[name] = true
			defer delete(within, name)
			return inline(defs[name], defs, within)
		}
		out := make(map[string]any, len(v)+1)
		for k, e := range v {
			out[k] = inline(e, defs, within)
		}
		if _, hasProps := out["properties"]; hasProps {
			if _, set := out["additionalProperties"]; !set {
				out["additionalProperties"] = false
			}
		}
		return out
	}
	return node
}
