namespace Amalgam.Kernels.Blas;

/// <summary>Whether a matrix operand is used as stored or transposed (op(A) = A or A^T).</summary>
public enum Transpose
{
    No,
    Yes,
}

/// <summary>
/// Which triangle of a symmetric matrix holds the data, in ROW-MAJOR terms: <see cref="Upper"/>
/// means the entries <c>a[i * ld + j]</c> with <c>j &gt;= i</c>. The other triangle is neither read
/// nor written. (LAPACK is column-major, where our upper triangle is its lower one; the wrappers
/// translate, so callers only ever think row-major.)
/// </summary>
public enum Triangle
{
    Upper,
    Lower,
}

/// <summary>
/// How the right-hand sides B (and solutions X) of a linear system A X = B are laid out in memory,
/// both row-major.
/// </summary>
public enum RhsLayout
{
    /// <summary>
    /// Textbook layout: B is rows(A) x nrhs and X is cols(A) x nrhs, each right-hand side a column.
    /// The wrappers transpose through a scratch buffer (LAPACK wants columns contiguous).
    /// </summary>
    Columns,

    /// <summary>
    /// Each right-hand side (and each solution) is a contiguous ROW: B is nrhs x rows(A), X is
    /// nrhs x cols(A). This is LAPACK's native column-major layout, so no transposing copy is made
    /// where the routine works in place (sposv). Example: RegMean solving G W^T = B^T for a PyTorch
    /// weight W (out x in) passes W's rows as right-hand sides.
    /// </summary>
    Rows,
}
