// Package series scores a numeric series point by point, in one pass and
// with no look-ahead, so that one threshold means the same on every
// series. It is the live metric detector's scorer (package teledetect) and
// tributary-detect's.
//
// For each point:
//
//  1. Forecasters predict it: a fast and a slow level with a damped trend,
//     and, once the series has lasted a configured season (a day, a week),
//     a seasonal profile with a spread per bin (busy hours are noisier than
//     quiet ones). A seasonal profile records one period before it
//     forecasts, learns for another before its deviations count, and
//     competes once it has a period of them. The forecaster with the
//     smallest recent absolute error is used. Every observation teaches
//     every forecaster, winsorised at clip sigmas, so the scale grows
//     through a lasting change instead of shrinking (the ratchet of the
//     scorer this replaces); a run of shiftAfter points on one side moves
//     the level to them at once. Sigma has a floor from the series' own
//     resolution, its smallest non-zero step, so counts and noise-free
//     series do not turn their smallest change into a huge deviation.
//  2. The deviation z = (x − forecast)/sigma is judged against that
//     forecaster's own history of deviations, kept as a fading histogram
//     with an exponential tail read from its upper quantiles (peaks over
//     threshold): p is the probability of a point at least as unusual, or
//     of a recent run (a winsorised average of z) at least as unusual —
//     the smaller of the two, times two. A new forecaster starts from the
//     assumption that z is normal, which fades as its history grows. The
//     idea is Numenta's anomaly likelihood (Ahmad et al., "Unsupervised
//     real-time anomaly detection for streaming data", Neurocomputing
//     2017): scores compared with the series' own distribution of scores.
//     Rare outliers teach the distribution little, so one anomaly does not
//     hide the next; once they recur they are the series' normal.
//  3. A value beyond the range seen so far by Config.Range of its width
//     (and by more than two steps of its resolution) scores at least
//     Config.Alert at once, once the series has a history of rangeAfter
//     points: the range of a few dozen points is too narrow to judge by.
//  4. Raw = −log10(p)/Decades, in [0, 1]. Score keeps Raw only when it beats
//     every recent score, each fading over Cooldown points (trailing
//     non-maximum suppression): whatever threshold is chosen, an alert run
//     is reported at its start, and again only where it grows clearly worse.
//
// Memory per series is bounded (at most a few thousand numbers, most of
// them in seasonal profiles), and a State is plain data for checkpoints.
package series
