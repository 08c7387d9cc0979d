//! The output types of the schema, read once from its SDL: what the document
//! pricing and the response completion need to know of each field (its type,
//! whether it is a list, whether it may be null).

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use std::collections::HashMap;

/// The fields of every object type, by type name then field name.
#[derive(Debug, Default)]
pub struct TypeIndex {
    objects: HashMap<String, HashMap<String, Type>>,
    /// Averages of the schema's own size, used to price introspection lists.
    pub introspection: IntrospectionSizes,
}

/// How long the lists of the introspection types are, on average, for this schema.
#[derive(Debug, Default, Clone, Copy)]
pub struct IntrospectionSizes {
    pub types: u64,
    pub fields: u64,
    pub args: u64,
    pub enum_values: u64,
    pub input_fields: u64,
}

impl TypeIndex {
    /// Reads the object types of an SDL document.
    pub fn from_sdl(sdl: &str) -> TypeIndex {
        let document = async_graphql::parser::parse_schema(sdl).expect("the schema's own SDL parses");
        let mut index = TypeIndex::default();
        let (mut types, mut fields, mut args, mut objects) = (0u64, 0u64, 0u64, 0u64);
        let (mut enums, mut values, mut inputs, mut input_fields) = (0u64, 0u64, 0u64, 0u64);
        for definition in document.definitions {
            let TypeSystemDefinition::Type(definition) = definition else {
                continue;
            };
            types += 1;
            let definition = definition.node;
            match definition.kind {
                TypeKind::Object(object) => {
                    objects += 1;
                    let mut map = HashMap::new();
                    for field in object.fields {
                        fields += 1;
                        args += field.node.arguments.len() as u64;
                        map.insert(field.node.name.node.to_string(), field.node.ty.node);
                    }
                    index.objects.insert(definition.name.node.to_string(), map);
                }
                TypeKind::Enum(e) => {
                    enums += 1;
                    values += e.values.len() as u64;
                }
                TypeKind::InputObject(input) => {
                    inputs += 1;
                    input_fields += input.fields.len() as u64;
                }
                _ => {}
            }
        }
        let average = |total: u64, count: u64| total.div_ceil(count.max(1)).max(1);
        index.introspection = IntrospectionSizes {
            // The SDL leaves out the built-in scalars and the introspection types.
            types: types + 13,
            fields: average(fields, objects),
            args: average(args, fields),
            enum_values: average(values, enums),
            input_fields: average(input_fields, inputs),
        };
        index
    }

    /// The type of a field of an object type, when both are known.
    pub fn field(&self, object: &str, field: &str) -> Option<&Type> {
        self.objects.get(object)?.get(field)
    }

    /// True when the name is an object type of the schema.
    pub fn is_object(&self, name: &str) -> bool {
        self.objects.contains_key(name)
    }
}

/// The named type at the bottom of a type (`[Branch!]!` → `Branch`).
pub fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

/// True when the type is a list (at any nullability).
pub fn is_list(ty: &Type) -> bool {
    matches!(ty.base, BaseType::List(_))
}
