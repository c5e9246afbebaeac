package sealing

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Payload metadata of a sealed payload, as in Temporal's encryption samples.
const (
	encodingEncrypted = "binary/encrypted"
	metadataKeyID     = "encryption-key-id"
)

// codec seals whole Temporal payloads: the marshalled original payload (metadata and
// data) becomes nonce||ciphertext of a new payload that says only which key sealed it.
type codec struct {
	active string
	aeads  map[string]cipher.AEAD
}

// NewCodec returns a PayloadCodec that seals payloads with the active key of k and opens
// them with any key of k. Payloads it did not seal pass through Decode unchanged, so
// histories written before sealing still replay.
func NewCodec(k *Keyring) converter.PayloadCodec {
	c := &codec{active: k.active, aeads: make(map[string]cipher.AEAD, len(k.keys))}
	for id, key := range k.keys {
		c.aeads[id] = newAEAD(key)
	}
	return c
}

// DataConverter returns Temporal's default data converter with every payload sealed by
// NewCodec(k). Give it to client.Options.DataConverter of every client and worker.
func DataConverter(k *Keyring) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), NewCodec(k))
}

// FailureConverter returns a failure converter that also seals failure messages and stack
// traces (they are moved into the failure's encoded attributes; the service stores
// "Encoded failure"). Give it to client.Options.FailureConverter next to DataConverter.
func FailureConverter(k *Keyring) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          DataConverter(k),
		EncodeCommonAttributes: true,
	})
}

// Encode implements converter.PayloadCodec.
func (c *codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.active]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("sealing: marshal payload: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(encodingEncrypted),
				metadataKeyID:              []byte(c.active),
			},
			Data: aead.Seal(nil, nil, plain, nil),
		}
	}
	return out, nil
}

// Decode implements converter.PayloadCodec.
func (c *codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != encodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[metadataKeyID])
		aead, ok := c.aeads[id]
		if !ok {
			return payloads, fmt.Errorf("sealing: payload sealed with key %q, which is not in the keyring", id)
		}
		plain, err := aead.Open(nil, nil, p.GetData(), nil)
		if err != nil {
			return payloads, fmt.Errorf("sealing: open payload sealed with key %q: %w", id, err)
		}
		out[i] = new(commonpb.Payload)
		if err := proto.Unmarshal(plain, out[i]); err != nil {
			return payloads, fmt.Errorf("sealing: unmarshal opened payload: %w", err)
		}
	}
	return out, nil
}

// newAEAD returns AES-256-GCM with a random 12-byte nonce prepended to each ciphertext.
// key is always KeySize bytes (checked by the Keyring), so neither call can fail.
func newAEAD(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		panic(err)
	}
	return aead
}
