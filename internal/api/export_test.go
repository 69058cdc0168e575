package api

// RouteSpec is one entry of the route table, as the package's external
// tests see it: they need the server package, which imports this one.
type RouteSpec struct {
	Method string
	Path   string
	Op     string
	Roles  []string // nil: public
	Status int
}

// RouteTable returns the route table of an API built without a backend;
// the table does not depend on one.
func RouteTable() []RouteSpec {
	a := New(Options{})
	out := make([]RouteSpec, len(a.routes))
	for i, rt := range a.routes {
		out[i] = RouteSpec{Method: rt.Method, Path: rt.Path, Op: rt.Op, Roles: rt.Roles, Status: rt.Status}
	}
	return out
}
