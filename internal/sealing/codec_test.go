package sealing

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

type petitioner struct {
	Name     string
	IDNumber string
}

var zhang = petitioner{Name: "张三", IDNumber: "110101199003071234"}

func sealedBy(t *testing.T, p *commonpb.Payload) string {
	t.Helper()
	if got := string(p.GetMetadata()[converter.MetadataEncoding]); got != encodingEncrypted {
		t.Fatalf("encoding %q, want %q", got, encodingEncrypted)
	}
	if len(p.GetMetadata()) != 2 {
		t.Errorf("metadata %v, want only encoding and key ID", p.GetMetadata())
	}
	if bytes.Contains(p.GetData(), []byte(zhang.IDNumber)) || bytes.Contains(p.GetData(), []byte(zhang.Name)) {
		t.Error("sealed payload contains the plain text")
	}
	return string(p.GetMetadata()[metadataKeyID])
}

func TestDataConverterRoundTrip(t *testing.T) {
	dc := DataConverter(TestKeyring())
	p, err := dc.ToPayload(zhang)
	if err != nil {
		t.Fatal(err)
	}
	if id := sealedBy(t, p); id != "test" {
		t.Errorf("sealed with %q, want the active key", id)
	}
	var got petitioner
	if err := dc.FromPayload(p, &got); err != nil {
		t.Fatal(err)
	}
	if got != zhang {
		t.Errorf("got %+v", got)
	}

	again, _ := dc.ToPayload(zhang)
	if bytes.Equal(again.GetData(), p.GetData()) {
		t.Error("two seals of one value are equal: nonce reused")
	}

	ps, err := dc.ToPayloads("a", 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	var (
		s string
		n int
		x *petitioner
	)
	if err := dc.FromPayloads(ps, &s, &n, &x); err != nil || s != "a" || n != 2 || x != nil {
		t.Errorf("FromPayloads: %v %q %d %v", err, s, n, x)
	}
}

func TestCodecRotation(t *testing.T) {
	k := TestKeyring()
	before, err := DataConverter(k).ToPayload(zhang)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Rotate("next"); err != nil {
		t.Fatal(err)
	}
	dc := DataConverter(k)
	var got petitioner
	if err := dc.FromPayload(before, &got); err != nil || got != zhang {
		t.Fatalf("old payload after rotation: %v %+v", err, got)
	}
	after, _ := dc.ToPayload(zhang)
	if id := sealedBy(t, after); id != "next" {
		t.Errorf("sealed with %q after rotation, want %q", id, "next")
	}

	// A keyring without the old key cannot open what it sealed.
	onlyNext := &Keyring{active: "next", keys: map[string][]byte{"next": k.keys["next"]}, index: k.index}
	err = DataConverter(onlyNext).FromPayload(before, &got)
	if err == nil || !strings.Contains(err.Error(), `key "test", which is not in the keyring`) {
		t.Errorf("unknown key: got %v", err)
	}
}

func TestCodecRefusesTampering(t *testing.T) {
	c := NewCodec(TestKeyring())
	plain, _ := converter.GetDefaultDataConverter().ToPayload(zhang)
	enc, err := c.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(p *commonpb.Payload){
		"flipped bit":  func(p *commonpb.Payload) { p.Data[len(p.Data)/2] ^= 1 },
		"truncated":    func(p *commonpb.Payload) { p.Data = p.Data[:10] },
		"other key ID": func(p *commonpb.Payload) { p.Metadata[metadataKeyID] = []byte("test-old") },
		"no key ID":    func(p *commonpb.Payload) { delete(p.Metadata, metadataKeyID) },
	} {
		t.Run(name, func(t *testing.T) {
			p := proto.Clone(enc[0]).(*commonpb.Payload)
			mutate(p)
			if _, err := c.Decode([]*commonpb.Payload{p}); err == nil {
				t.Error("decoded a tampered payload")
			}
		})
	}
}

func TestCodecPassesPlainPayloads(t *testing.T) {
	c := NewCodec(TestKeyring())
	plain, _ := converter.GetDefaultDataConverter().ToPayloads("旧的", zhang, nil)
	dec, err := c.Decode(plain.Payloads)
	if err != nil {
		t.Fatal(err)
	}
	for i := range dec {
		if dec[i] != plain.Payloads[i] {
			t.Errorf("payload %d changed", i)
		}
	}
	var got petitioner
	if err := DataConverter(TestKeyring()).FromPayload(plain.Payloads[1], &got); err != nil || got != zhang {
		t.Errorf("plain payload through the data converter: %v %+v", err, got)
	}
}

func TestFailureConverterSealsMessages(t *testing.T) {
	fc := FailureConverter(TestKeyring())
	cause := errors.New("no petitioner " + zhang.IDNumber)
	f := fc.ErrorToFailure(temporal.NewApplicationErrorWithCause("rejected "+zhang.Name, "Rejected", cause, zhang))

	for level := f; level != nil; level = level.GetCause() {
		if strings.Contains(level.GetMessage(), zhang.IDNumber) || strings.Contains(level.GetMessage(), zhang.Name) ||
			strings.Contains(level.GetStackTrace(), zhang.Name) {
			t.Errorf("failure message in the clear: %q", level.GetMessage())
		}
		sealedBy(t, level.GetEncodedAttributes())
	}
	sealedBy(t, f.GetApplicationFailureInfo().GetDetails().GetPayloads()[0])

	err := fc.FailureToError(f)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Message() != "rejected "+zhang.Name {
		t.Fatalf("got %v", err)
	}
	var got petitioner
	if err := app.Details(&got); err != nil || got != zhang {
		t.Errorf("details: %v %+v", err, got)
	}
	if !strings.Contains(errors.Unwrap(app).Error(), zhang.IDNumber) {
		t.Errorf("cause %v", errors.Unwrap(app))
	}
}
