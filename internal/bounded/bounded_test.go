package bounded

import "testing"

func TestBound(t *testing.T) {
	m := New[int, string](100)
	for i := range 1000 {
		m.Put(i, "v")
		if m.Len() > 100 {
			t.Fatalf("%d entries, bound 100", m.Len())
		}
	}
	if v, ok := m.Get(999); !ok || v != "v" {
		t.Error("the entry just put is gone")
	}
	m.Delete(999)
	if _, ok := m.Get(999); ok {
		t.Error("deleted entry still there")
	}
}
