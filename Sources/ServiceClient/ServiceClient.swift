/// The generated HTTP client of both services (openapi.yaml).
