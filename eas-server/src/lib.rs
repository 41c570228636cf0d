//! The eas server: configuration, the HTTPS front, authentication, devices
//! and provisioning, the store, one module per EAS command, and the
//! administration tools. The binary (`main.rs`) only parses the command line.

#![forbid(unsafe_code)]

pub mod admin;
pub mod auth;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod demo;
pub mod directory;
pub mod http;
pub mod mail;
pub mod provisioning;
pub mod push;
pub mod search;
pub mod serve;
pub mod state;
pub mod store;
pub mod syncengine;
pub mod synckey;
pub mod time;
pub mod trace;
pub mod wbxml_tool;
