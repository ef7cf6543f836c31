package local

import (
	"encoding/base64"
	"reflect"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// The Lambda API speaks restJson1: member names exactly as in the model (the
// Go SDK's field names), absent members omitted, and timestamps as epoch
// seconds (JSON numbers, fractions allowed). The invocation input is the same
// JSON except that its timestamps are epoch milliseconds (protocol.md §1.1).
//
// appendJSON encodes the SDK's types (package lambda and lambda/types) that
// way. It walks them by reflection: nil pointers, nil slices and empty enum
// values are omitted; time.Time becomes a number; fields of unexported types
// and the output's ResultMetadata are skipped. Requests are decoded with
// encoding/json straight into the SDK's input types.

type timeFormat int

const (
	epochSeconds timeFormat = iota
	epochMillis
)

var timeType = reflect.TypeFor[time.Time]()

// appendJSON appends v, a value of an SDK type, as restJson1.
func appendJSON(b []byte, v any, tf timeFormat) []byte {
	return appendValue(b, reflect.ValueOf(v), tf)
}

func appendValue(b []byte, v reflect.Value, tf timeFormat) []byte {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return append(b, "null"...)
		}
		return appendValue(b, v.Elem(), tf)
	case reflect.Struct:
		if v.Type() == timeType {
			return appendTime(b, v.Interface().(time.Time), tf)
		}
		return appendStruct(b, v, tf)
	case reflect.String:
		return appendString(b, v.String())
	case reflect.Bool:
		return strconv.AppendBool(b, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.AppendUint(b, v.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		return strconv.AppendFloat(b, v.Float(), 'g', -1, 64)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, v.Bytes())
			return append(b, '"')
		}
		b = append(b, '[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, v.Index(i), tf)
		}
		return append(b, ']')
	case reflect.Map:
		b = append(b, '{')
		iter := v.MapRange()
		first := true
		for iter.Next() {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendString(b, iter.Key().String())
			b = append(b, ':')
			b = appendValue(b, iter.Value(), tf)
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

type structField struct {
	name  string
	index int
	omit  func(reflect.Value) bool
}

var structFields sync.Map // reflect.Type -> []structField

func fieldsOf(t reflect.Type) []structField {
	if f, ok := structFields.Load(t); ok {
		return f.([]structField)
	}
	var fs []structField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Name == "ResultMetadata" {
			continue
		}
		sf := structField{name: f.Name, index: i}
		switch f.Type.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
			sf.omit = func(v reflect.Value) bool { return v.IsNil() }
		case reflect.String:
			sf.omit = func(v reflect.Value) bool { return v.Len() == 0 } // enums: unset
		case reflect.Struct:
			if f.Type == timeType {
				sf.omit = func(v reflect.Value) bool { return v.Interface().(time.Time).IsZero() }
			}
		}
		fs = append(fs, sf)
	}
	structFields.Store(t, fs)
	return fs
}

func appendStruct(b []byte, v reflect.Value, tf timeFormat) []byte {
	b = append(b, '{')
	first := true
	for _, f := range fieldsOf(v.Type()) {
		fv := v.Field(f.index)
		if f.omit != nil && f.omit(fv) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, f.name...)
		b = append(b, '"', ':')
		b = appendValue(b, fv, tf)
	}
	return append(b, '}')
}

// appendTime writes t as epoch seconds (with millisecond fractions) or as
// integer epoch milliseconds.
func appendTime(b []byte, t time.Time, tf timeFormat) []byte {
	ms := t.UnixMilli()
	if tf == epochMillis {
		return strconv.AppendInt(b, ms, 10)
	}
	if ms%1000 == 0 {
		return strconv.AppendInt(b, ms/1000, 10)
	}
	return strconv.AppendFloat(b, float64(ms)/1000, 'f', -1, 64)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
