package secret

import "testing"

func TestMatches(t *testing.T) {
	key := New("s3cret")
	if !key.IsSet() || !key.Matches("s3cret") {
		t.Fatal("the secret does not match itself")
	}
	for _, got := range []string{"", "s3cre", "s3cret ", "S3CRET"} {
		if key.Matches(got) {
			t.Errorf("%q matches s3cret", got)
		}
	}
	var none Digest
	if none.IsSet() || New("").IsSet() {
		t.Fatal("an empty secret is set")
	}
	if none.Matches("") || New("").Matches("") {
		t.Fatal("the empty string matches no secret")
	}
}

func TestMatchesAny(t *testing.T) {
	password, key := New("pw"), New("key")
	for _, tc := range []struct {
		got     string
		secrets []Digest
		want    bool
	}{
		{"pw", []Digest{password, key}, true},
		{"key", []Digest{password, key}, true},
		{"other", []Digest{password, key}, false},
		{"key", []Digest{{}, key}, true},
		{"", []Digest{{}, {}}, false},
		{"pw", nil, false},
	} {
		if got := MatchesAny(tc.got, tc.secrets...); got != tc.want {
			t.Errorf("MatchesAny(%q, %d secrets) = %v, want %v", tc.got, len(tc.secrets), got, tc.want)
		}
	}
}
