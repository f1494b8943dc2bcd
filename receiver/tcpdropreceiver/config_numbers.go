// SPDX-License-Identifier: Apache-2.0

package tcpdropreceiver

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/confmap"
)

// Unmarshal decodes the configuration after refusing the numbers the decoder
// would bend: mapstructure turns 4096.5 into 4096 and a number too large for
// an int into -9223372036854775808, silently, for every integer key.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	if err := checkIntegerKeys(conf, reflect.TypeFor[Config](), ""); err != nil {
		return err
	}
	return conf.Unmarshal(c)
}

// checkIntegerKeys checks the raw value of every integer key of the struct
// type t (durations included: a number is nanoseconds), under prefix.
func checkIntegerKeys(conf *confmap.Conf, t reflect.Type, prefix string) error {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		key := prefix + name
		switch f.Type.Kind() {
		case reflect.Struct:
			sub := key + confmap.KeyDelimiter
			if name == "" {
				sub = prefix // squashed: its keys are this struct's
			}
			if err := checkIntegerKeys(conf, f.Type, sub); err != nil {
				return err
			}
		case reflect.Int, reflect.Int64:
			if err := checkInteger(key, conf.Get(key), f.Type == reflect.TypeFor[time.Duration]()); err != nil {
				return err
			}
		case reflect.Slice:
			// A list of integers (logs::ports): each element.
			if k := f.Type.Elem().Kind(); k != reflect.Int && k != reflect.Int64 {
				continue
			}
			list, _ := conf.Get(key).([]any)
			for _, raw := range list {
				if err := checkInteger(key, raw, false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// checkInteger refuses a raw value that is a number but not one an int
// holds: a fraction, or beyond int64. The error shows the value as the
// YAML parser read it, not as the decoder would have bent it.
func checkInteger(key string, raw any, duration bool) error {
	hint := ""
	if duration {
		hint = " (a number is nanoseconds; write a duration such as 100ms)"
	}
	switch v := raw.(type) {
	case float64:
		if v != math.Trunc(v) {
			return fmt.Errorf("%s: %s is not a whole number%s", key, formatFloat(v), hint)
		}
		if v < math.MinInt64 || v >= math.MaxInt64 {
			return fmt.Errorf("%s: %s is too large for an integer", key, formatFloat(v))
		}
	case uint64:
		if v > math.MaxInt64 {
			return fmt.Errorf("%s: %d is too large for an integer", key, v)
		}
	}
	return nil
}

// formatFloat writes v in full, not in exponent form, unless it is huge.
func formatFloat(v float64) string {
	if math.Abs(v) < 1e21 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
