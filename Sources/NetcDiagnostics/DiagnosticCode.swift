/// The stable code of each kind of diagnostic; tools and users key on these, so a code
/// never changes meaning once released. The README lists them with their summaries.
public enum DiagnosticCode: String, Sendable, CaseIterable, Codable {
  // Reading the file (NS0xx).
  case io = "NS001"
  case encoding = "NS002"
  case yamlSyntax = "NS003"
  case duplicateKey = "NS004"
  case expansionLimit = "NS005"
  case nestingLimit = "NS006"

  // The spec's structure (NS1xx).
  case wrongType = "NS101"
  case unknownKey = "NS102"
  case missingKey = "NS103"
  case unknownOp = "NS104"
  case unknownOption = "NS105"
  case repeatedOption = "NS106"
  case invalidValue = "NS107"
  case shorthandSyntax = "NS108"
  case duplicateName = "NS109"
  case unknownBlock = "NS110"
  case recursiveBlock = "NS111"
  case blockArguments = "NS112"
  case undefinedVar = "NS113"
  case overflow = "NS114"
  case unsupportedVersion = "NS115"
  case sizeLimit = "NS116"

  // Shapes (NS2xx).
  case extentBelowOne = "NS201"
  case rankMismatch = "NS202"
  case mergeMismatch = "NS203"
  case expectationFailed = "NS204"
  case groupsMismatch = "NS205"
  case channelMismatch = "NS206"

  // Budgets, constraints and unknowns (NS3xx).
  case budgetExceeded = "NS301"
  case noSolution = "NS302"
  case unboundedVar = "NS303"
  case searchTooLarge = "NS304"
  case unboundVar = "NS305"
  case notChecked = "NS306"

  // Weights and tensors (NS4xx).
  case weightShape = "NS401"
  case weightFile = "NS402"
  case unknownWeight = "NS403"
  case memoryLimit = "NS404"
  case notExecutable = "NS405"

  // Lint warnings (NS5xx).
  case droppedInput = "NS501"
  case padAsLargeAsKernel = "NS502"
  case repeatedActivation = "NS503"
  case unusedVar = "NS504"
  case unusedBlock = "NS505"
  case shadowedName = "NS506"
  case channelsFirstInput = "NS507"

  // ONNX import (6xx)
  case onnxModel = "NS601"
  case onnxUnsupported = "NS602"

  /// One line on what this kind of diagnostic means.
  public var summary: String {
    switch self {
    case .io: "a file cannot be read"
    case .encoding: "the file is not valid UTF-8"
    case .yamlSyntax: "the file is not valid YAML"
    case .duplicateKey: "a mapping has the same key twice"
    case .expansionLimit: "aliases or repeats expand the spec beyond the size netc accepts"
    case .nestingLimit: "the spec nests deeper than netc accepts"
    case .wrongType: "a value has the wrong type (mapping, list or scalar)"
    case .unknownKey: "a key that the language does not define"
    case .missingKey: "a required key is missing"
    case .unknownOp: "a layer kind that the language does not define"
    case .unknownOption: "an option that the layer does not accept"
    case .repeatedOption: "an option given twice"
    case .invalidValue: "a value out of range or of the wrong form"
    case .shorthandSyntax: "a layer string that does not follow the shorthand grammar"
    case .duplicateName: "two layers with the same name in one scope"
    case .unknownBlock: "a block that is not defined"
    case .recursiveBlock: "a block that uses itself"
    case .blockArguments: "block arguments that do not match its parameters"
    case .undefinedVar: "a `$name` that is neither a var nor a block parameter"
    case .overflow: "arithmetic on the spec's numbers overflows 64-bit integers"
    case .unsupportedVersion: "a `netspec` version this netc does not know"
    case .sizeLimit: "a value or file larger than netc accepts"
    case .extentBelowOne: "a layer's output extent would be below 1"
    case .rankMismatch: "a layer gets a tensor of the wrong rank"
    case .mergeMismatch: "the branches of an add or concat do not fit together"
    case .expectationFailed: "an asserted shape (`->`, `expect:`, `output:`) does not hold"
    case .groupsMismatch: "channels do not divide by the groups"
    case .channelMismatch: "a layer's channels do not fit its input"
    case .budgetExceeded: "the spec exceeds its `budget:`"
    case .noSolution: "no values of the vars satisfy the constraints"
    case .unboundedVar: "a var has no domain and nothing bounds it"
    case .searchTooLarge: "the solution search would be larger than netc will run"
    case .unboundVar: "a var has no value where one is needed"
    case .notChecked: "a part of the spec `netc check` could not check (a var search larger than the solver runs)"
    case .weightShape: "a weight tensor has the wrong shape"
    case .weightFile: "a weight or tensor file cannot be read"
    case .unknownWeight: "weights given for a layer that does not exist or has none"
    case .memoryLimit: "running the spec would need more memory than the machine has available"
    case .notExecutable: "a layer that `run` or `emit` cannot execute yet (analyze and check it meanwhile)"
    case .droppedInput: "a window's floor rounding drops input rows or columns"
    case .padAsLargeAsKernel: "padding as large as the kernel adds windows of padding only"
    case .repeatedActivation: "an activation right after the same activation"
    case .unusedVar: "a var that nothing uses"
    case .unusedBlock: "a block that nothing uses"
    case .shadowedName: "a layer name that shadows another"
    case .channelsFirstInput: "an input that reads like PyTorch's C x H x W where netc reads H x W x C"
    case .onnxModel: "a file that is no ONNX model netc can read (truncated, corrupt, over a limit, external data outside its folder)"
    case .onnxUnsupported: "an ONNX node, attribute or graph shape that netc cannot import"
    }
  }
}
