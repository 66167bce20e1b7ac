//! The fake carrier's answers as types: each body the fake sends is one of
//! these, serialized (the shapes are the real APIs' as far as the research
//! notes document them; see the route functions in `carrier.rs`).

use serde::Serialize;

/// RFC 9457 problem details, as PostNL's gateway answers (`traceId` in its
/// spelling).
#[derive(Serialize)]
pub struct Problem<'a> {
    pub title: &'a str,
    pub status: u16,
    pub detail: &'a str,
    #[serde(rename = "traceId")]
    pub trace_id: String,
}

/// PostNL's pickup locations (v2).
#[derive(Serialize)]
pub struct Pickup {
    pub locations: Vec<PickupLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PickupLocation {
    pub pick_up_location_id: &'static str,
    pub location_type: &'static str,
    pub name: &'static str,
    pub distance: u32,
    pub address: PickupAddress,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PickupAddress {
    pub postal_code: &'static str,
    pub country_iso: &'static str,
}

/// PostNL's older 400 body (`Error.ErrorCode`, as recorded).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LegacyError {
    pub date: String,
    pub error: LegacyErrorBody,
    pub request_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LegacyErrorBody {
    pub error_code: &'static str,
    pub error_message: &'static str,
}

/// PostNL's locations (v2) answer.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Locations {
    pub get_locations_result: LocationsResult,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LocationsResult {
    pub response_location: Vec<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Location {
    pub location_code: &'static str,
    pub name: &'static str,
    pub address: LocationAddress,
    pub distance: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LocationAddress {
    pub street: &'static str,
    pub house_nr: u32,
    pub zipcode: String,
    pub city: &'static str,
    pub countrycode: String,
}

/// PostNL's `errors[]` body (`ErrorMsg`, `ErrorNumber`).
#[derive(Serialize)]
pub struct Errors {
    pub errors: Vec<ErrorItem>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorItem {
    pub error_msg: String,
    pub error_number: &'static str,
}

/// PostNL's barcode answer.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Barcode {
    pub barcode: String,
}

/// Posti's `{errorCode, message, details}` body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PostiError<'a> {
    pub error_code: &'a str,
    pub message: &'a str,
    pub details: Option<Vec<PostiDetail>>,
}

#[derive(Serialize)]
pub struct PostiDetail {
    pub field: &'static str,
    pub message: &'static str,
}

/// The body as sent: JSON text (these types always serialize).
pub fn text(body: &impl Serialize) -> String {
    serde_json::to_string(body).unwrap_or_default()
}
