namespace Amalgam.Engine.Autodiff;

/// <summary>The graph uses an op (or a form of one) the gradient builder has no rule or shape inference for.</summary>
public sealed class UnsupportedOpException(string message) : Amalgam.Kernels.BadInputException(message);
