// Package authdetect finds attacks in the auth event stream: failed-login
// bursts per user and per source IP, credential stuffing, impossible
// travel, MFA fatigue, logins from a country new for a user, and bursts of
// permission denials. Pure logic: events in, findings out.
package authdetect

import (
	"errors"
	"fmt"
	"time"
)

// Detector name and the anomaly kinds it emits.
const (
	Name = "authdetect"

	KindBruteForceUser  = "brute_force_user"
	KindBruteForceIP    = "brute_force_ip"
	KindCredStuffing    = "credential_stuffing"
	KindImpossibleTrav  = "impossible_travel"
	KindMFAFatigue      = "mfa_fatigue"
	KindNewCountry      = "new_country"
	KindPermissionBurst = "permission_denied_burst"
)

// Burst is a count threshold over an event-time window.
type Burst struct {
	Window time.Duration
	Min    int
}

// Config tunes the detector; zero fields take WithDefaults' values.
type Config struct {
	Lateness time.Duration // accepted out-of-orderness (default 10s)
	MaxKeys  int           // per state map (default 100,000)
	Idle     time.Duration // keys untouched this long are forgotten (default 2h)

	FailedPerUser Burst // default 8 in 1m
	FailedPerIP   Burst // default 20 in 1m
	// StuffingUsers is how many distinct users failing from one IP within
	// FailedPerIP.Window make credential stuffing (default 8).
	StuffingUsers int
	MFADenied     Burst // default 4 in 2m
	Denied        Burst // permission denials per user, default 10 in 1m

	MaxSpeedKMH float64 // impossible travel above this speed (default 1000)
	MinTravelKM float64 // and this distance, to ignore GeoIP jitter (default 500)

	// NewCountryWarmup is how many successful logins a user needs before a
	// new country is reported; before that every country is new.
	NewCountryWarmup int // default 5
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	burst := func(b *Burst, w time.Duration, n int) {
		if b.Window == 0 {
			b.Window = w
		}
		if b.Min == 0 {
			b.Min = n
		}
	}
	if c.Lateness == 0 {
		c.Lateness = 10 * time.Second
	}
	if c.MaxKeys == 0 {
		c.MaxKeys = 100_000
	}
	if c.Idle == 0 {
		c.Idle = 2 * time.Hour
	}
	burst(&c.FailedPerUser, time.Minute, 8)
	burst(&c.FailedPerIP, time.Minute, 20)
	burst(&c.MFADenied, 2*time.Minute, 4)
	burst(&c.Denied, time.Minute, 10)
	if c.StuffingUsers == 0 {
		c.StuffingUsers = 8
	}
	if c.MaxSpeedKMH == 0 {
		c.MaxSpeedKMH = 1000
	}
	if c.MinTravelKM == 0 {
		c.MinTravelKM = 500
	}
	if c.NewCountryWarmup == 0 {
		c.NewCountryWarmup = 5
	}
	return c
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	for name, b := range map[string]Burst{"FailedPerUser": c.FailedPerUser, "FailedPerIP": c.FailedPerIP,
		"MFADenied": c.MFADenied, "Denied": c.Denied} {
		if b.Window <= 0 || b.Min < 2 {
			errs = append(errs, fmt.Errorf("authdetect: %s needs a positive window and Min >= 2, got %+v", name, b))
		}
	}
	if c.Lateness < 0 || c.Idle <= 0 || c.MaxKeys < 1 {
		errs = append(errs, errors.New("authdetect: Lateness must not be negative, Idle and MaxKeys must be positive"))
	}
	if c.StuffingUsers < 2 || c.MaxSpeedKMH <= 0 || c.MinTravelKM < 0 || c.NewCountryWarmup < 1 {
		errs = append(errs, errors.New("authdetect: StuffingUsers >= 2, MaxSpeedKMH > 0, MinTravelKM >= 0, NewCountryWarmup >= 1"))
	}
	return errors.Join(errs...)
}
