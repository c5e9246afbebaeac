package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/petitions/petitions/internal/calendar"
)

// Every instant the API answers is written in the office's zone (Asia/Shanghai unless
// configured otherwise), whatever zone it was read in: PostgreSQL hands timestamptz back in the
// session's zone (UTC), Temporal's payloads carry the offset the worker wrote, and a clerk
// must never have to convert "2026-12-11T16:00:00Z" in their head.
//
// Every JSON answer goes through Server.answer, which renders a copy of the value with each
// time.Time moved into the zone (by type, walking structs, pointers, maps, slices and
// interfaces). Untyped JSON has no types to go by — an event's details read back from the
// register's jsonb, a deadline kept as json.RawMessage — so there a string that is exactly an
// RFC 3339 date-time is taken for the instant it is and written in the zone too.

// defaultZone is the office zone when none is configured: the legal calendar's, the one fact
// both share (internal/calendar embeds the zone database, so no host tz data is needed).
func defaultZone() *time.Location { return calendar.Location() }

// answer renders v as JSON with every instant in the office's zone. A value that cannot be
// rendered (it should not happen: instants are bounded at the edge) fails as a logged 500 with
// a JSON body, never as an empty 200.
func (s *Server) answer(c *gin.Context, status int, v any) {
	b, err := json.Marshal(inZone(v, s.zone))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(status, "application/json; charset=utf-8", b)
}

// inZone returns a copy of v whose instants are in loc. v itself is not changed.
func inZone(v any, loc *time.Location) any {
	if v == nil || loc == nil {
		return v
	}
	return zoneValue(reflect.ValueOf(v), loc, 0).Interface()
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// maxZoneDepth bounds the walk; answers are shallow, and a deeper value is left as it is.
const maxZoneDepth = 64

func zoneValue(v reflect.Value, loc *time.Location, depth int) reflect.Value {
	if depth > maxZoneDepth || !v.IsValid() {
		return v
	}
	t := v.Type()
	switch {
	case t == timeType:
		return reflect.ValueOf(zoneTime(v.Interface().(time.Time), loc))
	case t == rawType:
		out := reflect.New(t).Elem()
		out.SetBytes(zoneRaw(v.Bytes(), loc))
		return out
	case !mayHoldTime(t):
		return v
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		p := reflect.New(t.Elem())
		p.Elem().Set(zoneValue(v.Elem(), loc, depth+1))
		return p
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		inner := v.Elem()
		if inner.Kind() == reflect.String && inner.Type() == reflect.TypeFor[string]() {
			// An untyped string (gin.H, map[string]any, []any): an instant if it is one.
			inner = reflect.ValueOf(zoneString(inner.String(), loc))
		} else {
			inner = zoneValue(inner, loc, depth+1)
		}
		out := reflect.New(t).Elem()
		out.Set(inner)
		return out
	case reflect.Struct:
		out := reflect.New(t).Elem()
		out.Set(v)
		for i := range t.NumField() {
			f := t.Field(i)
			if f.IsExported() && mayHoldTime(f.Type) {
				out.Field(i).Set(zoneValue(v.Field(i), loc, depth+1))
			}
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(t, v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), zoneValue(it.Value(), loc, depth+1))
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(t, v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(zoneValue(v.Index(i), loc, depth+1))
		}
		return out
	case reflect.Array:
		out := reflect.New(t).Elem()
		for i := range v.Len() {
			out.Index(i).Set(zoneValue(v.Index(i), loc, depth+1))
		}
		return out
	}
	return v
}

// zoneTime moves t into loc. The zero time stays as it is (it means "not set"), and so does an
// instant that loc cannot write in RFC 3339: before 1901 Asia/Shanghai is on local mean time
// (+08:05:43, whose seconds RFC 3339 drops), and near the year 10000 the shift could leave
// the years JSON can hold.
func zoneTime(t time.Time, loc *time.Location) time.Time {
	if t.IsZero() {
		return t
	}
	z := t.In(loc)
	if _, off := z.Zone(); off%60 != 0 || z.Year() < 1 || z.Year() > 9999 {
		return t
	}
	return z
}

// rfc3339DateTime is the shape of an instant as encoding/json writes one.
var rfc3339DateTime = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$`)

// zoneString rewrites a string of untyped JSON that is exactly an RFC 3339 date-time into loc;
// any other string (a date, a case number, free text) is returned as it is.
func zoneString(s string, loc *time.Location) string {
	if len(s) < 20 || len(s) > 35 || !rfc3339DateTime.MatchString(s) {
		return s
	}
	t, ok := parseRFC3339(s)
	if !ok {
		return s
	}
	z := zoneTime(t, loc)
	if z.Equal(t) && z.Location() == t.Location() {
		return s
	}
	return z.Format(time.RFC3339Nano)
}

// zoneRaw rewrites the instants of a raw JSON document (see zoneString); a document that does
// not decode is returned as it is.
func zoneRaw(raw []byte, loc *time.Location) []byte {
	if len(raw) == 0 {
		return raw
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // numbers come back exactly as they were
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return raw
	}
	b, err := json.Marshal(zoneUntyped(doc, loc))
	if err != nil {
		return raw
	}
	return b
}

func zoneUntyped(v any, loc *time.Location) any {
	switch x := v.(type) {
	case string:
		return zoneString(x, loc)
	case map[string]any:
		for k, e := range x {
			x[k] = zoneUntyped(e, loc)
		}
	case []any:
		for i, e := range x {
			x[i] = zoneUntyped(e, loc)
		}
	}
	return v
}

// holdsTime caches mayHoldTime by type.
var holdsTime sync.Map // reflect.Type → bool

// mayHoldTime reports whether a value of type t can contain an instant: a time.Time, raw JSON,
// or an interface (whose dynamic value might), anywhere inside it.
func mayHoldTime(t reflect.Type) bool {
	if v, ok := holdsTime.Load(t); ok {
		return v.(bool)
	}
	holdsTime.Store(t, true) // provisional, for recursive types: walking too much is harmless
	var r bool
	switch t.Kind() {
	case reflect.Interface:
		r = true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		r = t == rawType || mayHoldTime(t.Elem())
	case reflect.Struct:
		r = t == timeType
		for i := 0; !r && i < t.NumField(); i++ {
			f := t.Field(i)
			r = f.IsExported() && mayHoldTime(f.Type)
		}
	}
	holdsTime.Store(t, r)
	return r
}
