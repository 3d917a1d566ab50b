package image

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// Parts of the image reference grammar of the distribution project
// (github.com/distribution/reference), without IPv6 registry hosts.
var (
	domainPattern = regexp.MustCompile(
		`^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?` +
			`(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$`)
	componentPattern = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	tagPattern       = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
	digestPattern    = regexp.MustCompile(`^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)
	sha256Pattern    = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
)

// Defaults that NormalizeName and Lookup fill in.
const (
	localDomain  = "localhost"
	dockerDomain = "docker.io"
	defaultTag   = "latest"
	// maxRepositoryLength is the distribution project's limit on a
	// repository name, registry host included.
	maxRepositoryLength = 255
)

// reference is a parsed image name: [domain/]path[:tag][@digest].
type reference struct {
	domain string // empty when the name has none
	path   string
	tag    string
	digest string
}

func (r reference) String() string {
	s := r.path
	if r.domain != "" {
		s = r.domain + "/" + s
	}
	if r.tag != "" {
		s += ":" + r.tag
	}
	if r.digest != "" {
		s += "@" + r.digest
	}
	return s
}

// NormalizeName returns name in the form podplug stores: with a registry
// host and a tag. A name whose first component has no '.' or ':' and is
// not "localhost" gets "localhost/" in front, and a name with neither tag
// nor digest gets ":latest", so "busybox" becomes
// "localhost/busybox:latest". A single-component name on docker.io gets
// "library/", as Docker spells it. An invalid name, such as one that is
// empty, contains whitespace or has uppercase letters in its repository,
// fails with ErrInvalidName.
func NormalizeName(name string) (string, error) {
	return normalizeWithDomain(name, localDomain)
}

// normalizeDockerName is NormalizeName for names that Docker wrote, such as
// the RepoTags of a `docker save` archive: Docker means docker.io when a
// name has no registry host, so "busybox" becomes
// "docker.io/library/busybox:latest".
func normalizeDockerName(name string) (string, error) {
	return normalizeWithDomain(name, dockerDomain)
}

func normalizeWithDomain(name, domain string) (string, error) {
	ref, err := parseReference(name)
	if err != nil {
		return "", err
	}
	normalized, repositoryLength := normalize(ref, domain)
	if repositoryLength > maxRepositoryLength {
		return "", fmt.Errorf("%w %q: repository is %d characters long with its registry "+
			"host, the maximum is %d", ErrInvalidName, name, repositoryLength, maxRepositoryLength)
	}
	return normalized, nil
}

// normalize fills in domain when ref has none, library/ for docker.io and
// the default tag. It returns the name and the length of its repository,
// registry host included.
func normalize(ref reference, domain string) (string, int) {
	if ref.domain == "" {
		ref.domain = domain
	}
	if ref.domain == dockerDomain && !strings.Contains(ref.path, "/") {
		ref.path = "library/" + ref.path
	}
	if ref.tag == "" && ref.digest == "" {
		ref.tag = defaultTag
	}
	return ref.String(), len(ref.domain) + 1 + len(ref.path)
}

// parseReference splits name into its parts and checks each one.
func parseReference(name string) (reference, error) {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: %s", ErrInvalidName, name, fmt.Sprintf(format, args...))
	}
	if name == "" {
		return reference{}, invalid("name is empty")
	}
	if strings.ContainsFunc(name, unicode.IsSpace) {
		return reference{}, invalid("name contains whitespace")
	}

	var ref reference
	rest, digest, hasDigest := strings.Cut(name, "@")
	if hasDigest {
		if !digestPattern.MatchString(digest) ||
			(strings.HasPrefix(digest, "sha256:") && !sha256Pattern.MatchString(digest)) {
			return reference{}, invalid("invalid digest %q", digest)
		}
		ref.digest = digest
	}
	if i := strings.LastIndexByte(rest, ':'); i > strings.LastIndexByte(rest, '/') {
		rest, ref.tag = rest[:i], rest[i+1:]
		if !tagPattern.MatchString(ref.tag) {
			return reference{}, invalid("invalid tag %q", ref.tag)
		}
	}

	ref.domain, ref.path = splitDomain(rest)
	if ref.domain != "" && !domainPattern.MatchString(ref.domain) {
		return reference{}, invalid("invalid registry host %q", ref.domain)
	}
	if err := checkPath(ref.path); err != "" {
		return reference{}, invalid("%s", err)
	}
	return ref, nil
}

// splitDomain splits the registry host from the repository path. The first
// component is a host when it contains '.' or ':' or is "localhost".
func splitDomain(name string) (domain, path string) {
	first, rest, found := strings.Cut(name, "/")
	if found && (strings.ContainsAny(first, ".:") || first == localDomain) {
		return first, rest
	}
	return "", name
}

// checkPath returns what is wrong with a repository path, or "".
func checkPath(path string) string {
	if path == "" {
		return "repository is empty"
	}
	for _, component := range strings.Split(path, "/") {
		if strings.ToLower(component) != component {
			return "repository must be lowercase"
		}
		if !componentPattern.MatchString(component) {
			return fmt.Sprintf("invalid repository component %q", component)
		}
	}
	return ""
}
