"""The ground floor: file I/O used by every stage."""
