package network

import (
	"errors"
	"fmt"
	"testing"
)

func TestParsePublish(t *testing.T) {
	tests := []struct {
		spec string
		want PortMapping
	}{
		{"80", PortMapping{ContainerPort: 80, Protocol: "tcp"}},
		{"8080:80", PortMapping{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}},
		{":80", PortMapping{ContainerPort: 80, Protocol: "tcp"}},
		{"127.0.0.1:8080:80", PortMapping{
			HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}},
		{"127.0.0.1::80", PortMapping{HostIP: "127.0.0.1", ContainerPort: 80, Protocol: "tcp"}},
		{"0.0.0.0:8080:80", PortMapping{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}},
		{"::80", PortMapping{ContainerPort: 80, Protocol: "tcp"}},
		{"53:53/udp", PortMapping{HostPort: 53, ContainerPort: 53, Protocol: "udp"}},
		{"53/UDP", PortMapping{ContainerPort: 53, Protocol: "udp"}},
		{"8080:80/tcp", PortMapping{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}},
		{"65535:1", PortMapping{HostPort: 65535, ContainerPort: 1, Protocol: "tcp"}},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParsePublish(tt.spec)
			if err != nil {
				t.Fatalf("ParsePublish(%q): %v", tt.spec, err)
			}
			if got != tt.want {
				t.Errorf("ParsePublish(%q) = %+v, want %+v", tt.spec, got, tt.want)
			}
		})
	}
}

func TestParsePublishRejects(t *testing.T) {
	tests := []struct {
		spec   string
		reason string
	}{
		{"", "missing container port"},
		{"8080:", "missing container port"},
		{"0", "container port \"0\""},
		{"65536", "container port \"65536\""},
		{"http", "container port \"http\""},
		{"0:80", "host port \"0\""},
		{"-1:80", "port ranges"},
		{"8080-8081:80-81", "port ranges"},
		{"80/sctp", "protocol \"sctp\""},
		{"80/", "protocol \"\""},
		{"80/tcp/udp", "protocol \"tcp/udp\""},
		{"localhost:8080:80", "not an IP address"},
		{"[::1]:8080:80", "IPv6"},
		{"::1:8080:80", "IPv6"},
		{"1.2.3.4:5:6:7", "IPv6"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			_, err := ParsePublish(tt.spec)
			if !errors.Is(err, ErrInvalidPublish) {
				t.Fatalf("ParsePublish(%q): got %v, want ErrInvalidPublish", tt.spec, err)
			}
			if !containsAll(err.Error(), tt.reason, fmt.Sprintf("%q", tt.spec)) {
				t.Errorf("error %q does not name the spec and %q", err, tt.reason)
			}
		})
	}
}

func TestPortMappingStringRoundTrip(t *testing.T) {
	for _, spec := range []string{"80", "8080:80/udp", "127.0.0.1:8080:80", "10.0.0.1::443"} {
		m, err := ParsePublish(spec)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParsePublish(m.String())
		if err != nil {
			t.Fatalf("ParsePublish(%q) of String of %q: %v", m.String(), spec, err)
		}
		if again != m {
			t.Errorf("%q: round trip gave %+v, want %+v", spec, again, m)
		}
	}
}

func TestNormalizePorts(t *testing.T) {
	tests := []struct {
		name    string
		ports   []PortMapping
		want    []PortMapping
		wantErr bool
	}{
		{
			name:  "fills protocol and wildcard",
			ports: []PortMapping{{HostIP: "0.0.0.0", HostPort: 80, ContainerPort: 8080}},
			want:  []PortMapping{{HostPort: 80, ContainerPort: 8080, Protocol: "tcp"}},
		},
		{
			name: "same port on two protocols",
			ports: []PortMapping{
				{HostPort: 53, ContainerPort: 53, Protocol: "tcp"},
				{HostPort: 53, ContainerPort: 53, Protocol: "udp"},
			},
			want: []PortMapping{
				{HostPort: 53, ContainerPort: 53, Protocol: "tcp"},
				{HostPort: 53, ContainerPort: 53, Protocol: "udp"},
			},
		},
		{
			name: "same port on two host IPs",
			ports: []PortMapping{
				{HostIP: "127.0.0.1", HostPort: 80, ContainerPort: 80},
				{HostIP: "127.0.0.2", HostPort: 80, ContainerPort: 81},
			},
			want: []PortMapping{
				{HostIP: "127.0.0.1", HostPort: 80, ContainerPort: 80, Protocol: "tcp"},
				{HostIP: "127.0.0.2", HostPort: 80, ContainerPort: 81, Protocol: "tcp"},
			},
		},
		{
			name: "duplicate host port",
			ports: []PortMapping{
				{HostPort: 80, ContainerPort: 80},
				{HostPort: 80, ContainerPort: 81, Protocol: "tcp"},
			},
			wantErr: true,
		},
		{
			name:    "non-canonical host IP",
			ports:   []PortMapping{{HostIP: "127.000.0.1", HostPort: 80, ContainerPort: 80}},
			wantErr: true,
		},
		{
			name:    "mapped IPv6 host IP",
			ports:   []PortMapping{{HostIP: "::ffff:127.0.0.1", HostPort: 80, ContainerPort: 80}},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := normalizePorts(tt.ports)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidPublish) {
					t.Errorf("got %v, want ErrInvalidPublish", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestAssignHostPorts(t *testing.T) {
	ports := []PortMapping{
		{HostIP: "127.0.0.1", ContainerPort: 80, Protocol: "tcp"},
		{HostIP: "127.0.0.1", ContainerPort: 53, Protocol: "udp"},
		{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 81, Protocol: "tcp"},
	}
	got, err := assignHostPorts(ports)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range got {
		if p.HostPort == 0 {
			t.Errorf("mapping %d kept host port 0", i)
		}
		if p.ContainerPort != ports[i].ContainerPort || p.Protocol != ports[i].Protocol {
			t.Errorf("mapping %d changed: %+v, want %+v with a host port", i, p, ports[i])
		}
	}
	if got[2].HostPort != 8080 {
		t.Errorf("explicit host port changed to %d", got[2].HostPort)
	}
	if ports[0].HostPort != 0 {
		t.Error("assignHostPorts changed its input")
	}
}

func FuzzParsePublish(f *testing.F) {
	for _, seed := range []string{"80", "8080:80/udp", "127.0.0.1::80", "[::1]:1:2", "1-2:3"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		m, err := ParsePublish(spec)
		if err != nil {
			if !errors.Is(err, ErrInvalidPublish) {
				t.Fatalf("ParsePublish(%q): error %v does not wrap ErrInvalidPublish", spec, err)
			}
			return
		}
		if m.ContainerPort == 0 {
			t.Fatalf("ParsePublish(%q) = %+v without a container port", spec, m)
		}
		if _, err := normalizePorts([]PortMapping{m}); err != nil {
			t.Fatalf("ParsePublish(%q) = %+v, which Setup rejects: %v", spec, m, err)
		}
		again, err := ParsePublish(m.String())
		if err != nil || again != m {
			t.Fatalf("ParsePublish(%q) = %+v; String %q parses to %+v, %v",
				spec, m, m.String(), again, err)
		}
	})
}

func ExampleParsePublish() {
	m, err := ParsePublish("127.0.0.1:8080:80/tcp")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.HostIP, m.HostPort, m.ContainerPort, m.Protocol)

	_, err = ParsePublish("8080-8090:80")
	fmt.Println(err)
	// Output:
	// 127.0.0.1 8080 80 tcp
	// invalid publish spec "8080-8090:80": port ranges are not supported; publish each port separately
}
