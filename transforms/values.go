package transforms

import "github.com/zarrforge/zarrforge/internal/plan"

// The values of the pipeline that a user's own steps make, edit or read.
// The stages' other elements (an input's header, the prepared target, read
// groups, write results) travel between them and are not for users to
// touch: a pipeline passes their PCollections from one stage to the next.
type (
	// Input is one input of the dataset: a file or object (Source as the
	// user named it, URL where it is read) and its place along the concat
	// dimensions. CacheInputs and DetermineSchema take a PCollection of
	// them.
	Input = plan.Input
	// Index is an input's position along each concat dimension.
	Index = plan.Index
	// Schema is the dataset DetermineSchema describes and PrepareTarget
	// lays out: its dimensions, variables and attributes. A schema step —
	// a DoFn between the two — edits it (see Example_userSteps).
	Schema = plan.Schema
	// Variable is one array of a Schema.
	Variable = plan.Variable
	// Dim is one dimension of a Schema.
	Dim = plan.Dim
	// Block is a box of one variable's values, as a ChunkEditor edits them.
	Block = plan.Block
	// Summary is what a finished store reports: FinalizeTarget,
	// WriteGroups and WriteReferences emit one.
	Summary = plan.Summary
	// ConcatDim is a dimension the inputs are concatenated along
	// (SchemaConfig.Concat).
	ConcatDim = plan.ConcatDim
	// Preprocess is what DetermineSchema does to each input's variables
	// first, as xarray's preprocess would (SchemaConfig.Preprocess).
	Preprocess = plan.Preprocess
	// Sel is a Preprocess index slice of one dimension.
	Sel = plan.Sel
	// Rename is a Preprocess rename of a variable or dimension.
	Rename = plan.Rename
	// AttrEdit is a Preprocess change of one attribute.
	AttrEdit = plan.AttrEdit
)
