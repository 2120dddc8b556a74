pub mod secret_values;
