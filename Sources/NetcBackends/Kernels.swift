/// The fast loops of the interpreter, by family: `ConvForward`, `ConvBackward`, `Im2col`,
/// `Pooling` and `Dense` extend it.
enum Kernels {}
