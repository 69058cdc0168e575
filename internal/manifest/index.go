package manifest

// index is built once a manifest is valid, for lookups by id.
type index struct {
	categories map[string]Category
	purposes   map[string]Purpose
	services   map[string]Service
	recipients map[string]Recipient
	channels   map[string]Channel
}

func (m *Manifest) index() {
	ix := &index{
		categories: map[string]Category{},
		purposes:   map[string]Purpose{},
		services:   map[string]Service{},
		recipients: map[string]Recipient{},
		channels:   map[string]Channel{},
	}
	for _, c := range builtins().Categories {
		ix.categories[c.ID] = c
	}
	for _, c := range m.Categories {
		ix.categories[c.ID] = c
	}
	for _, p := range m.Purposes {
		ix.purposes[p.ID] = p
	}
	for _, s := range m.Services {
		ix.services[s.ID] = s
	}
	for _, r := range m.Recipients {
		ix.recipients[r.ID] = r
	}
	for _, c := range m.Contact.Channels {
		ix.channels[c.ID] = c
	}
	m.ix = ix
}

func (m *Manifest) lookup() *index {
	if m.ix == nil {
		m.index()
	}
	return m.ix
}

// Category returns a built-in or manifest category by id.
func (m *Manifest) Category(id string) (Category, bool) {
	c, ok := m.lookup().categories[id]
	return c, ok
}

// Purpose returns a purpose by id.
func (m *Manifest) Purpose(id string) (Purpose, bool) {
	p, ok := m.lookup().purposes[id]
	return p, ok
}

// Service returns a service by id.
func (m *Manifest) Service(id string) (Service, bool) {
	s, ok := m.lookup().services[id]
	return s, ok
}

// Recipient returns a recipient by id.
func (m *Manifest) Recipient(id string) (Recipient, bool) {
	r, ok := m.lookup().recipients[id]
	return r, ok
}

// Channel returns a contact channel by id.
func (m *Manifest) Channel(id string) (Channel, bool) {
	c, ok := m.lookup().channels[id]
	return c, ok
}

// Sensitive reports whether category id is sensitive personal information.
func (m *Manifest) Sensitive(id string) bool {
	c, ok := m.Category(id)
	return ok && c.Sensitive
}

// ResolveRef returns the text of a reference: its own, or the built-in entry's.
func ResolveRef(r Ref, list []Ref) Text {
	if len(r.Text) > 0 {
		return r.Text
	}
	for _, b := range list {
		if b.ID == r.ID {
			return b.Text
		}
	}
	return nil
}
