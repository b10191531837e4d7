package har

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Read parses a HAR file: deltascope's own, or one exported by a browser's
// devtools or a proxy (extra fields are ignored, optional ones may be
// missing, bodies may be base64). A file whose last entry was cut by a
// kill during its write loses that entry, not the file.
func Read(r io.Reader) (*Log, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var f File
	err = json.Unmarshal(data, &f)
	if err != nil {
		repaired, ok := repair(data)
		if !ok || json.Unmarshal(repaired, &f) != nil {
			return nil, fmt.Errorf("not a HAR file: %v", err)
		}
	}
	if f.Log.Entries == nil && !bytes.Contains(data, []byte(`"entries"`)) {
		return nil, errors.New("not a HAR file: no log.entries")
	}
	return &f.Log, nil
}

// repair ends a file that a kill cut inside an entry's write after its
// last whole line, the way Writer lays entries out (one a line).
func repair(data []byte) ([]byte, bool) {
	i := bytes.LastIndexByte(bytes.TrimRight(data, "\n"), '\n')
	for i > 0 {
		head := bytes.TrimSuffix(data[:i], []byte(","))
		fixed := append(bytes.Clone(head), closing...)
		if json.Valid(fixed) {
			return fixed, true
		}
		i = bytes.LastIndexByte(head, '\n')
	}
	return nil, false
}
