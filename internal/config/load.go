package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/peterbourgon/ff/v3"
)

// Load reads the settings that apply to cmd: from args, then, for each setting no flag
// gave, from its environment variable, else its default. It stops at the first value that
// does not parse, naming its flag or variable, then checks the values together.
//
// fs is the subcommand's flag set: empty, or holding flags of the subcommand's own that
// are no setting (keys create's -role). Load adds the settings to it and makes -h list
// each with its variable; the arguments after the flags are fs.Args().
func Load(fs *flag.FlagSet, cmd Command, args []string) (Config, error) {
	var c Config
	settings := c.settings(cmd)
	for _, s := range settings {
		fs.Var(s.value, s.flag, s.desc)
	}
	fs.Usage = func() { printUsage(fs.Output(), fs, settings) }
	if err := ff.Parse(fs, args); err != nil {
		return c, err
	}

	// ff names a flag's variable after the flag; hookd's variables predate its flags
	// (-addr is HOOKD_API_ADDR), so a second flag set carries the settings under their
	// variables' names, over the same fields, for ff to read from the environment.
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	env := flag.NewFlagSet(fs.Name()+" environment", flag.ContinueOnError)
	env.SetOutput(io.Discard)
	for _, s := range settings {
		if !given[s.flag] {
			env.Var(envValue{s.value, s.env}, s.env, s.desc)
		}
	}
	if err := ff.Parse(env, nil, ff.WithEnvVars()); err != nil {
		var bad *VariableError
		if errors.As(err, &bad) {
			return c, bad
		}
		return c, err
	}
	return c, c.validate()
}

// VariableError is an environment variable whose value does not parse.
type VariableError struct {
	Name, Value string
	Err         error
}

func (e *VariableError) Error() string { return fmt.Sprintf("%s=%q: %v", e.Name, e.Value, e.Err) }

func (e *VariableError) Unwrap() error { return e.Err }

// setting is a field of Config that applies to a subcommand.
type setting struct {
	flag, env, desc string
	value           value
}

// settings sets every field of c to its default for cmd and returns those that apply to
// cmd. A field that does not apply keeps its default, so c always passes validate unless
// a setting was given a bad value.
func (c *Config) settings(cmd Command) []setting {
	fields := reflect.ValueOf(c).Elem()
	var out []setting
	for i := range fields.NumField() {
		f := fields.Type().Field(i)
		v := value{fields.Field(i).Addr().Interface()}
		def := f.Tag.Get("default")
		if d, ok := f.Tag.Lookup("dev"); ok && cmd == Dev {
			def = d
		}
		if def != "" {
			if err := v.Set(def); err != nil {
				panic(fmt.Sprintf("config: default of %s: %v", f.Name, err))
			}
		}
		if slices.Contains(strings.Split(f.Tag.Get("cmd"), ","), string(cmd)) {
			out = append(out, setting{flag: f.Tag.Get("flag"), env: f.Tag.Get("env"), desc: f.Tag.Get("desc"), value: v})
		}
	}
	return out
}

// value is a flag.Value over one field of Config (ptr points at it). Its errors say what
// would have been accepted.
type value struct{ ptr any }

func (v value) Set(s string) error {
	switch p := v.ptr.(type) {
	case *string:
		*p = s
	case *bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return errors.New("want true or false")
		}
		*p = b
	case *int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return errors.New("want a whole number")
		}
		*p = n
	case *time.Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return errors.New("want a duration such as 30s or 1m30s")
		}
		*p = d
	case *slog.Level:
		if err := p.UnmarshalText([]byte(s)); err != nil {
			return errors.New("want debug, info, warn or error")
		}
	default:
		panic(fmt.Sprintf("config: no parser for %T", v.ptr))
	}
	return nil
}

func (v value) String() string {
	switch p := v.ptr.(type) {
	case *string:
		return *p
	case *bool:
		return strconv.FormatBool(*p)
	case *int:
		return strconv.Itoa(*p)
	case *time.Duration:
		return p.String()
	case *slog.Level:
		return strings.ToLower(p.String())
	}
	return "" // the zero value, which flag asks about
}

// IsBoolFlag lets a bool setting be given as a bare -flag.
func (v value) IsBoolFlag() bool {
	_, ok := v.ptr.(*bool)
	return ok
}

// typeName is what -h shows after the flag's name.
func (v value) typeName() string {
	switch v.ptr.(type) {
	case *bool:
		return ""
	case *int:
		return "int"
	case *time.Duration:
		return "duration"
	case *slog.Level:
		return "level"
	}
	return "string"
}

// envValue is a setting read from its environment variable, name.
type envValue struct {
	value
	name string
}

func (e envValue) Set(s string) error {
	if err := e.value.Set(s); err != nil {
		return &VariableError{Name: e.name, Value: s, Err: err}
	}
	return nil
}

// printUsage lists fs's flags as flag.PrintDefaults does, with each setting's variable.
func printUsage(w io.Writer, fs *flag.FlagSet, settings []setting) {
	vars := map[string]string{}
	for _, s := range settings {
		vars[s.flag] = s.env
	}
	fmt.Fprintf(w, "Usage of %s (a flag wins over its environment variable):\n", fs.Name())
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		if v, ok := f.Value.(value); ok {
			typ = v.typeName()
		}
		line := "  -" + f.Name
		if typ != "" {
			line += " " + typ
		}
		if env := vars[f.Name]; env != "" {
			line += "  $" + env
		}
		line += "\n    \t" + usage
		switch f.DefValue {
		case "", "false":
		default:
			if typ == "string" {
				line += fmt.Sprintf(" (default %q)", f.DefValue)
			} else {
				line += " (default " + f.DefValue + ")"
			}
		}
		fmt.Fprintln(w, line)
	})
}
