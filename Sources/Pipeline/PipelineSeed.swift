// Pipeline module: see shared ARCHITECTURE.md. (Seed file; replace when the module gets real sources.)
enum PipelineSeed {}
