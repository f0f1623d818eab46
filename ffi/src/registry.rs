//! Beneficiary registries and vaccine schedules (the status rules).

use crate::error::{fail, kycvs_result};
use crate::ffi::{free_arc, free_box, handle, new_arc, new_box, try_bytes, try_out, try_ref};
use crate::panic::ffi_panic_boundary;
use kycvs_core::{JsonlRegistry, VaccineSchedule, dose_records_from_json};
use std::ffi::c_char;

/// A registry of beneficiaries (JSON Lines: one `{"id","mobile","name","doses"}` per line),
/// looked up by mobile number and name. Immutable and thread-safe; an issuance service keeps
/// its own reference. Free with `kycvs_registry_free`.
pub struct kycvs_registry {
    _private: [u8; 0],
}

handle!(kycvs_registry => Arc<JsonlRegistry>);

/// A vaccine schedule: how many primary doses each product needs. Immutable and
/// thread-safe. Free with `kycvs_schedule_free`.
pub struct kycvs_schedule {
    _private: [u8; 0],
}

handle!(kycvs_schedule => Box<VaccineSchedule>);

/// Loads a registry from `jsonl_len` bytes of JSON Lines (each line checked against the
/// registry schema, mobile numbers and names normalised, ids unique, at most 4 people per
/// mobile number); the first bad line is named in `kycvs_last_error_message`.
///
/// On success `*out` holds a new registry for `kycvs_registry_free`.
/// Errors: `KYCVS_RESULT_INVALID_REGISTRY`, `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_registry_from_jsonl(
    jsonl: *const u8,
    jsonl_len: usize,
    out: *mut *const kycvs_registry,
) -> kycvs_result {
    ffi_panic_boundary! {
        let jsonl = try_bytes!(jsonl, jsonl_len);
        let out = try_out!(out);
        match JsonlRegistry::from_jsonl_bytes(jsonl) {
            Ok(registry) => {
                *out = new_arc(registry);
                kycvs_result::Ok
            }
            Err(e) => fail(&e),
        }
    }
}

/// The built-in sample registry (300 made-up people, names in several Indian scripts).
///
/// On success `*out` holds a new registry for `kycvs_registry_free`.
/// Errors: `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_registry_sample(out: *mut *const kycvs_registry) -> kycvs_result {
    ffi_panic_boundary! {
        let out = try_out!(out);
        *out = new_arc(JsonlRegistry::sample());
        kycvs_result::Ok
    }
}

/// The number of beneficiaries in `registry` (0 for NULL).
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_registry_len(registry: *const kycvs_registry) -> usize {
    ffi_panic_boundary! {
        let registry = try_ref!(registry);
        registry.len()
    }
}

/// Releases a registry. NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_registry_free(registry: *const kycvs_registry) {
    ffi_panic_boundary! {
        free_arc(registry);
    }
}

/// The built-in schedule (Covishield, Covaxin, Sputnik V and Light, ZyCoV-D, Corbevax,
/// Covovax, Spikevax, Janssen, with their aliases).
///
/// On success `*out` holds a new schedule for `kycvs_schedule_free`.
/// Errors: `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_schedule_default(out: *mut *mut kycvs_schedule) -> kycvs_result {
    ffi_panic_boundary! {
        let out = try_out!(out);
        *out = new_box(VaccineSchedule::default());
        kycvs_result::Ok
    }
}

/// Loads a schedule from `json_len` bytes of JSON (`{"version":1,"products":[{"name",
/// "primary_doses","aliases"}]}`, checked against the schedule schema; names and aliases
/// unique after normalisation).
///
/// On success `*out` holds a new schedule for `kycvs_schedule_free`.
/// Errors: `KYCVS_RESULT_INVALID_SCHEDULE`, `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_schedule_from_json(
    json: *const u8,
    json_len: usize,
    out: *mut *mut kycvs_schedule,
) -> kycvs_result {
    ffi_panic_boundary! {
        let json = try_bytes!(json, json_len);
        let out = try_out!(out);
        match VaccineSchedule::from_json(json) {
            Ok(schedule) => {
                *out = new_box(schedule);
                kycvs_result::Ok
            }
            Err(e) => fail(&e),
        }
    }
}

/// The status (0 not, 1 partially, 2 fully vaccinated) that the dose records in
/// `doses_json` (`doses_len` bytes: a JSON array of `{"product","dose","date","kind"}`,
/// `kind` `"primary"` (the default) or `"precaution"`) give under `schedule`.
///
/// On success writes `*out_status`.
/// Errors: `KYCVS_RESULT_INVALID_DOSE_RECORDS` (not such an array, numbering, dates, order),
/// `KYCVS_RESULT_UNKNOWN_PRODUCT`, `KYCVS_RESULT_NULL_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_schedule_status(
    schedule: *const kycvs_schedule,
    doses_json: *const c_char,
    doses_len: usize,
    out_status: *mut u8,
) -> kycvs_result {
    ffi_panic_boundary! {
        let schedule = try_ref!(schedule);
        let doses_json = try_bytes!(doses_json, doses_len);
        let out_status = try_out!(out_status);
        match dose_records_from_json(doses_json).and_then(|doses| schedule.status(&doses)) {
            Ok(status) => {
                *out_status = status.as_u8();
                kycvs_result::Ok
            }
            Err(e) => fail(&e),
        }
    }
}

/// Frees a schedule. NULL does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn kycvs_schedule_free(schedule: *mut kycvs_schedule) {
    ffi_panic_boundary! {
        free_box(schedule);
    }
}
