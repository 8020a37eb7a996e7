package natsbus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamSpec describes a stream EnsureStream provisions. Zero fields take
// the defaults noted.
type StreamSpec struct {
	Name     string
	Subjects []string
	// Storage defaults to file (jetstream.FileStorage is the zero value):
	// memory streams lose everything on a server restart.
	Storage jetstream.StorageType
	// MaxAge drops messages older than it; 0 or -1: unlimited.
	// Provisioning (infra/provision) sets a default.
	MaxAge time.Duration
	// MaxBytes caps the stream size, dropping the oldest messages; 0 or
	// -1: unlimited. On file storage the server reserves it against its
	// max_file_store, so a stream cannot be created larger than the disk
	// the server was given.
	MaxBytes int64
	// Duplicates is the Nats-Msg-Id dedup window (default 2m). It bounds how
	// late a retried publish is still recognised as a duplicate.
	Duplicates time.Duration
	Replicas   int // default 1
}

func (s StreamSpec) withDefaults() StreamSpec {
	if s.MaxBytes == 0 {
		s.MaxBytes = -1
	}
	if s.MaxAge == -1 {
		s.MaxAge = 0 // the server's "unlimited"
	}
	if s.Duplicates == 0 {
		s.Duplicates = 2 * time.Minute
	}
	if s.Replicas == 0 {
		s.Replicas = 1
	}
	return s
}

// Validate reports every invalid field at once.
func (s StreamSpec) Validate() error {
	var errs []error
	if s.Name == "" {
		errs = append(errs, errors.New("Name: required"))
	} else if !validName(s.Name) {
		errs = append(errs, fmt.Errorf("Name: %q may only hold letters, digits, '-' and '_'", s.Name))
	}
	if len(s.Subjects) == 0 {
		errs = append(errs, errors.New("Subjects: at least one subject is required"))
	}
	if s.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("MaxAge: must not be negative (-1 means unlimited), got %s", s.MaxAge))
	}
	if s.MaxBytes < -1 {
		errs = append(errs, fmt.Errorf("MaxBytes: must be -1 (unlimited) or positive, got %d", s.MaxBytes))
	}
	if s.Duplicates < 0 {
		errs = append(errs, fmt.Errorf("Duplicates: must not be negative, got %s", s.Duplicates))
	}
	if s.MaxAge > 0 && s.Duplicates > s.MaxAge {
		errs = append(errs, fmt.Errorf("Duplicates: window %s exceeds MaxAge %s", s.Duplicates, s.MaxAge))
	}
	if s.Replicas < 0 || s.Replicas > 5 {
		errs = append(errs, fmt.Errorf("Replicas: must be between 1 and 5, got %d", s.Replicas))
	}
	return errors.Join(errs...)
}

// EnsureStream creates the stream or updates it to spec; running it again
// is a no-op. Changes the server cannot make in place (storage type) are
// returned as errors.
func EnsureStream(ctx context.Context, js jetstream.JetStream, spec StreamSpec) error {
	spec = spec.withDefaults()
	if err := spec.Validate(); err != nil {
		return fmt.Errorf("ensure stream: %w", err)
	}
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       spec.Name,
		Subjects:   spec.Subjects,
		Storage:    spec.Storage,
		MaxAge:     spec.MaxAge,
		MaxBytes:   spec.MaxBytes,
		Duplicates: spec.Duplicates,
		Replicas:   spec.Replicas,
	})
	if err != nil {
		return fmt.Errorf("ensure stream %s: %w", spec.Name, err)
	}
	return nil
}
