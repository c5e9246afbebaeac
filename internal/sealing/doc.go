// Package sealing keeps the personal data of petitioners sealed wherever it is stored.
//
// A petition carries a petitioner's name, identity-card number, telephone and address, and
// often the grievance itself names other people. Temporal persists every workflow input,
// activity argument and result, signal, update and failure in its own database (the event
// history), which is copied into backups and shown by the Temporal Web UI and CLI; the
// register keeps the same people in PostgreSQL. Whoever can read either database, or
// a backup of it, must not be able to read who petitioned about what. So:
//
//   - NewCodec / DataConverter / FailureConverter seal every Temporal payload, failure
//     message and stack trace with AES-256-GCM before it leaves the process. The Temporal
//     service only ever stores ciphertext; workers and clients holding the keyring open it.
//   - CodecHandler serves Temporal's codec-server protocol so that authorised operators
//     can read histories in the Web UI or CLI, without the keys leaving this service.
//   - Fields seals individual register columns (Seal/Open) and computes blind indexes
//     (Index) so that sealed columns can still be looked up by exact value.
//
// Keys live in a Keyring: one active key seals, older keys still open what they sealed,
// so keys can be rotated without rewriting histories. Payloads and rows written before
// sealing existed stay readable: Decode and Open pass plain data through unchanged.
//
// Not everything Temporal stores goes through the data converter: search attributes,
// workflow and activity IDs, type names, task queues and ApplicationError types are sent
// as they are (the service must index or route on them). Never put personal data there.
package sealing
