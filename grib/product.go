package grib

import "fmt"

// Product is section 4 for templates 4.0 (an analysis or forecast at a
// point in time), 4.1 (of an ensemble member), 4.8 (statistically
// processed over an interval) and 4.11 (both): the parameter, the time
// after the reference time, the level, and for 4.8 and 4.11 the interval.
type Product struct {
	Template                   int
	Category, Number           int // the parameter, within the discipline (code table 4.2)
	TypeOfGeneratingProcess    int
	TimeUnit                   int // code table 4.4 (1: hour)
	ForecastTime               int64
	Level1Type, Level2Type     int // code table 4.5 (100: isobaric surface, 255: none)
	Level1, Level2             Scaled
	EnsembleType, Perturbation int // 4.1, 4.11
	EnsembleSize               int // 4.1, 4.11: number of forecasts in the ensemble
	StatProcess                int // 4.8, 4.11: code table 4.10 (0: average, 1: accumulation), -1 otherwise
	TimeIncrementType          int // 4.8, 4.11: code table 4.11
	RangeUnit                  int
	RangeLength                int64
}

// Scaled is a value as GRIB writes it: Value × 10^-Scale, missing when
// Missing.
type Scaled struct {
	Scale   int
	Value   int64
	Missing bool
}

// Float returns the scaled value.
func (s Scaled) Float() float64 {
	v := float64(s.Value)
	for range s.Scale {
		v /= 10
	}
	for range -s.Scale {
		v *= 10
	}
	return v
}

func (p *Product) parse(s []byte) error {
	if len(s) < 9 {
		return fmt.Errorf("%w: %d bytes", ErrFormat, len(s))
	}
	p.Template = int(be16(s[7:]))
	var end int // where the statistical part starts, for 4.8 and 4.11
	switch p.Template {
	case 0:
		end = 34
	case 1:
		end = 37
	case 8:
		end = 34
	case 11:
		end = 37
	default:
		return fmt.Errorf("product definition template 4.%d: %w (4.0, 4.1, 4.8 and 4.11 are read)", p.Template, ErrUnsupported)
	}
	if p.Template == 8 || p.Template == 11 {
		end += 24 // the end of the interval, and one time range
	}
	if len(s) < end {
		return fmt.Errorf("%w: template 4.%d in %d bytes", ErrFormat, p.Template, len(s))
	}
	p.Category, p.Number = int(s[9]), int(s[10])
	p.TypeOfGeneratingProcess = int(s[11])
	p.TimeUnit = int(s[17])
	p.ForecastTime = signed32(s[18:])
	p.Level1Type, p.Level1 = int(s[22]), scaled(s[23], s[24:])
	p.Level2Type, p.Level2 = int(s[28]), scaled(s[29], s[30:])
	p.StatProcess = -1
	stat := 34
	if p.Template == 1 || p.Template == 11 {
		p.EnsembleType, p.Perturbation, p.EnsembleSize = int(s[34]), int(s[35]), int(s[36])
		stat = 37
	}
	if p.Template == 8 || p.Template == 11 {
		if n := s[stat+7]; n != 1 {
			return fmt.Errorf("%d time ranges in one statistical interval: %w", n, ErrUnsupported)
		}
		p.StatProcess = int(s[stat+12])
		p.TimeIncrementType = int(s[stat+13])
		p.RangeUnit = int(s[stat+14])
		p.RangeLength = int64(be32(s[stat+15:]))
	}
	return nil
}

// scaled reads a scale factor and a scaled value (both all ones: missing).
func scaled(factor byte, value []byte) Scaled {
	if factor == 0xff && be32(value) == 0xffffffff {
		return Scaled{Missing: true}
	}
	f := int(factor)
	if f&0x80 != 0 {
		f = -(f & 0x7f)
	}
	return Scaled{Scale: f, Value: signed32(value)}
}

// hoursPerUnit are the units of time of code table 4.4 in hours.
var hoursPerUnit = map[int]float64{0: 1.0 / 60, 1: 1, 2: 24, 10: 3, 11: 6, 12: 12, 13: 1.0 / 3600}

// Step is ecCodes' endStep in hours: the forecast time, plus for a
// statistically processed field the length of its interval.
func (p *Product) Step() (float64, error) {
	h, ok := hoursPerUnit[p.TimeUnit]
	if !ok {
		return 0, fmt.Errorf("forecast time in units %d of code table 4.4: %w", p.TimeUnit, ErrUnsupported)
	}
	step := float64(p.ForecastTime) * h
	if p.StatProcess >= 0 {
		r, ok := hoursPerUnit[p.RangeUnit]
		if !ok {
			return 0, fmt.Errorf("time range in units %d of code table 4.4: %w", p.RangeUnit, ErrUnsupported)
		}
		step += float64(p.RangeLength) * r
	}
	return step, nil
}

// stepTypes name the statistical processes of code table 4.10 as
// ecCodes' stepType does.
var stepTypes = map[int]string{0: "avg", 1: "accum", 2: "max", 3: "min", 4: "diff", 5: "rms", 6: "sd", 7: "cov",
	8: "sdiff", 9: "ratio", 10: "stdanom", 11: "sum", 100: "severity", 101: "mode"}

// StepType is ecCodes' stepType: "instant" at a point in time, else the
// statistical process ("avg", "accum", "max", ...; "avgd" for an average
// of analyses).
func (p *Product) StepType() string {
	switch {
	case p.StatProcess < 0 || p.StatProcess == 255:
		return "instant"
	case p.StatProcess == 0 && p.TimeIncrementType == 1:
		return "avgd"
	}
	if t, ok := stepTypes[p.StatProcess]; ok {
		return t
	}
	return "unknown"
}
