//! Request traces and metric series: reading, writing, generating, inspecting.

pub mod request;
