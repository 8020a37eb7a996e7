package localstack

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// checkMode keeps a stack folder either open or secure: Kafka's users are
// written when its storage is formatted, and an open stack's clients would
// find a secure one's ports refusing them. The first Up records the mode
// in <dir>/mode; an Up of the other mode fails, naming the folder.
func (s *Stack) checkMode() error {
	want := "open"
	if s.cfg.Secure {
		want = "secure"
	}
	path := filepath.Join(s.cfg.Dir, "mode")
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		if got := strings.TrimSpace(string(raw)); got != want {
			return fmt.Errorf("localstack: %s holds %s stack, not %s one: use another -dir, or stop it and delete the folder", s.cfg.Dir, article(got), article(want))
		}
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("localstack: %w", err)
	}
	// Folders from before the mode file hold open stacks.
	if _, err := os.Stat(filepath.Join(kafkaServer{s.cfg}.dataDir(), "meta.properties")); err == nil && s.cfg.Secure {
		return fmt.Errorf("localstack: %s holds an open stack, not a secure one: use another -dir, or stop it and delete the folder", s.cfg.Dir)
	}
	if err := os.MkdirAll(s.cfg.Dir, 0o755); err != nil {
		return fmt.Errorf("localstack: %w", err)
	}
	return os.WriteFile(path, []byte(want+"\n"), 0o644)
}

func article(mode string) string {
	if mode == "open" {
		return "an open"
	}
	return "a " + mode
}
