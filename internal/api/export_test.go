package api

import (
	"reflect"
	"runtime"
	"strings"
)

// RouteSpec is one entry of the route table, as the package's external
// tests see it: they need the server package, which imports this one.
type RouteSpec struct {
	Method string
	Path   string
	Op     string
	Roles  []string // nil: public
	Status int
	// Handler names the function that answers: a method of API
	// ("downloadBundle"), or for a closure the function it is written in.
	Handler string
}

// RouteTable returns the route table of an API built without a backend;
// the table does not depend on one.
func RouteTable() []RouteSpec {
	a := New(Options{})
	out := make([]RouteSpec, len(a.routes))
	for i, rt := range a.routes {
		out[i] = RouteSpec{Method: rt.Method, Path: rt.Path, Op: rt.Op, Roles: rt.Roles, Status: rt.Status, Handler: funcName(rt.h)}
	}
	return out
}

// funcName turns runtime names such as "….(*API).health-fm" and
// "….(*API).bannerRoutes.func1" into "health" and "bannerRoutes".
func funcName(f any) string {
	name := runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name()
	if i := strings.LastIndex(name, ")."); i >= 0 {
		name = name[i+2:]
	} else if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
		name = name[strings.Index(name, ".")+1:]
	}
	name, _, _ = strings.Cut(name, ".")
	return strings.TrimSuffix(name, "-fm")
}
