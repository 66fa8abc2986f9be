package broker

import "testing"

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"redis://:s3cret@10.0.0.5:6379/0":                 "redis://:xxxxx@10.0.0.5:6379/0",
		"redis://alice:s3cret@h:6379":                     "redis://alice:xxxxx@h:6379",
		"redis+sentinel://:pw@h1:26379,h2:26379/mymaster": "redis+sentinel://:xxxxx@h1:26379,h2:26379/mymaster",
		"nats://user:p@ss@h:4222":                         "nats://user:xxxxx@h:4222",
		"redis://h:6379/0":                                "redis://h:6379/0",
		"redis://s3cret@h:6379/0":                         "redis://:xxxxx@h:6379/0",
		"nats://tok@h1:4222,nats://u:p@h2:4222?creds=/x":  "nats://:xxxxx@h1:4222,nats://u:xxxxx@h2:4222?creds=/x",
		"not a url": "not a url",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
