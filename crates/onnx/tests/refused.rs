//! Files that are not classifiers this crate can run are refused on
//! reading, with the node, operator or value named; graphs built here with
//! the crate's own protobuf types.

use candle_core::{Device, Tensor};
use prost::Message;
use sgbn_attacks::Victim;
use sgbn_estimators::seeded_rng;
use sgbn_onnx::proto::{
    AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TensorTypeProto, TypeProto, ValueInfoProto, data_type,
};
use sgbn_onnx::{OnnxError, OnnxModel};

fn value(name: &str, dims: &[Dimension]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: data_type::FLOAT,
                shape: Some(TensorShapeProto { dim: dims.to_vec() }),
            }),
        }),
    }
}

fn batch() -> Dimension {
    Dimension {
        dim_value: 0,
        dim_param: "batch".into(),
    }
}

fn fixed(v: i64) -> Dimension {
    Dimension {
        dim_value: v,
        dim_param: String::new(),
    }
}

fn node(op: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        name: format!("{op}_0"),
        op_type: op.into(),
        ..Default::default()
    }
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: 7,
        ints: v.to_vec(),
        ..Default::default()
    }
}

fn weights(name: &str, dims: &[i64], v: Vec<f32>) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: data_type::FLOAT,
        float_data: v,
        name: name.into(),
        ..Default::default()
    }
}

/// images (batch, 1, 2, 2) → Flatten → Gemm(W 3×4, b) → logits, plus
/// `extra` nodes before the Flatten (working on "images").
fn model(input: Vec<Dimension>, nodes: Vec<NodeProto>) -> Vec<u8> {
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 17,
        }],
        producer_name: "sgbn-tests".into(),
        graph: Some(GraphProto {
            node: nodes,
            name: "g".into(),
            initializer: vec![
                weights(
                    "W",
                    &[3, 4],
                    (0..12).map(|i| i as f32 / 10.0 - 0.5).collect(),
                ),
                weights("b", &[3], vec![0.1, -0.2, 0.3]),
            ],
            input: vec![value("images", &input)],
            output: vec![value("logits", &[batch(), fixed(3)])],
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

fn linear() -> Vec<NodeProto> {
    let mut gemm = node("Gemm", &["flat", "W", "b"], &["logits"]);
    gemm.attribute.push(AttributeProto {
        name: "transB".into(),
        r#type: 2,
        i: 1,
        ..Default::default()
    });
    vec![node("Flatten", &["images"], &["flat"]), gemm]
}

fn image() -> Vec<Dimension> {
    vec![batch(), fixed(1), fixed(2), fixed(2)]
}

fn refused(bytes: &[u8]) -> String {
    OnnxModel::from_bytes(bytes, &Device::Cpu)
        .expect_err("refused")
        .to_string()
}

#[test]
fn a_hand_built_linear_model_computes_x_w_transposed_plus_b()
-> Result<(), Box<dyn std::error::Error>> {
    let m = OnnxModel::from_bytes(&model(image(), linear()), &Device::Cpu)?;
    assert_eq!(
        (m.image_shape(), m.num_classes(), m.opset()),
        ([1, 2, 2], 3, 17)
    );
    assert_eq!(m.ops(), ["Flatten", "Gemm"]);
    let x = Tensor::new(&[[[[1f32, 2.], [3., 4.]]]], &Device::Cpu)?;
    let got = m.logits(&x, &mut seeded_rng(0))?.to_vec2::<f32>()?;
    let w: Vec<f32> = (0..12).map(|i| i as f32 / 10.0 - 0.5).collect();
    let b = [0.1f32, -0.2, 0.3];
    for k in 0..3 {
        let want: f32 = (0..4).map(|j| w[4 * k + j] * (j + 1) as f32).sum::<f32>() + b[k];
        assert!(
            (got[0][k] - want).abs() < 1e-6,
            "logit {k}: {} vs {want}",
            got[0][k]
        );
    }
    // Images of another shape are refused, naming the expected one.
    let e = m
        .logits(
            &Tensor::zeros((1, 1, 3, 3), candle_core::DType::F32, &Device::Cpu)?,
            &mut seeded_rng(0),
        )
        .expect_err("wrong shape")
        .to_string();
    assert!(e.contains("(batch, 1, 2, 2)"), "{e}");
    Ok(())
}

#[test]
fn bytes_that_are_not_onnx_are_refused() {
    let e = refused(b"this is not a protobuf \xff\xff\xff");
    assert!(e.contains("not an ONNX model"), "{e}");
    let e = refused(&ModelProto::default().encode_to_vec());
    assert!(e.contains("no graph"), "{e}");
}

#[test]
fn an_unsupported_operator_is_named_with_its_node() {
    let mut nodes = linear();
    nodes.insert(0, node("NonMaxSuppression", &["images"], &["nms"]));
    match OnnxModel::from_bytes(&model(image(), nodes), &Device::Cpu) {
        Err(OnnxError::UnsupportedOp { node, op }) => {
            assert_eq!(
                (node.as_str(), op.as_str()),
                ("NonMaxSuppression_0", "NonMaxSuppression")
            )
        }
        other => panic!("expected UnsupportedOp, got {other:?}"),
    }
    let mut nodes = linear();
    nodes[0].domain = "com.microsoft".into();
    let e = refused(&model(image(), nodes));
    assert!(e.contains("com.microsoft::Flatten"), "{e}");
}

#[test]
fn an_unsupported_attribute_is_named_before_any_use() {
    let mut pool = node("MaxPool", &["images"], &["pooled"]);
    pool.attribute.push(ints("kernel_shape", &[2, 2]));
    pool.attribute.push(AttributeProto {
        name: "ceil_mode".into(),
        r#type: 2,
        i: 1,
        ..Default::default()
    });
    let mut nodes = linear();
    nodes[0].input[0] = "pooled".into();
    nodes.insert(0, pool);
    let e = refused(&model(image(), nodes));
    assert!(e.contains("MaxPool_0") && e.contains("ceil_mode"), "{e}");
}

#[test]
fn a_fixed_batch_size_several_inputs_or_a_non_image_input_are_refused() {
    let e = refused(&model(
        vec![fixed(1), fixed(1), fixed(2), fixed(2)],
        linear(),
    ));
    assert!(
        e.contains("fixed batch size") && e.contains("dynamic_axes"),
        "{e}"
    );
    let e = refused(&model(vec![batch(), fixed(4)], linear()));
    assert!(
        e.contains("(batch, 4)") && e.contains("(batch, C, H, W)"),
        "{e}"
    );
    let mut two = ModelProto::decode(model(image(), linear()).as_slice()).expect("decodes");
    if let Some(g) = two.graph.as_mut() {
        g.input.push(value("labels", &[batch()]));
    }
    let e = refused(&two.encode_to_vec());
    assert!(e.contains("2 inputs") && e.contains("labels"), "{e}");
}

#[test]
fn an_output_that_is_not_batch_by_classes_is_refused() {
    // The images themselves as the "logits".
    let e = refused(&model(
        image(),
        vec![node("Identity", &["images"], &["logits"])],
    ));
    assert!(
        e.contains("[2, 1, 2, 2]") && e.contains("(batch, classes)"),
        "{e}"
    );
    // A value no node computes.
    let e = refused(&model(
        image(),
        vec![node("Relu", &["missing"], &["logits"])],
    ));
    assert!(e.contains("\"missing\"") && e.contains("Relu_0"), "{e}");
}

#[test]
fn a_graph_that_asks_for_a_huge_tensor_is_refused_not_allocated() {
    // ConstantOfShape of a 2⁴⁰-element shape, then the linear model on it.
    let shape = TensorProto {
        dims: vec![2],
        data_type: data_type::INT64,
        int64_data: vec![1 << 20, 1 << 20],
        name: "huge_shape".into(),
        ..Default::default()
    };
    let mut nodes = linear();
    nodes.insert(0, node("ConstantOfShape", &["huge_shape"], &["huge"]));
    nodes[1].input[0] = "huge".into();
    let mut m = ModelProto::decode(model(image(), nodes).as_slice()).expect("decodes");
    if let Some(g) = m.graph.as_mut() {
        g.initializer.push(shape);
    }
    let e = refused(&m.encode_to_vec());
    assert!(
        e.contains("ConstantOfShape_0") && e.contains("more than"),
        "{e}"
    );
    // An initializer whose dimensions overflow is refused by name too.
    let mut m = ModelProto::decode(model(image(), linear()).as_slice()).expect("decodes");
    if let Some(g) = m.graph.as_mut() {
        g.initializer[0].dims = vec![1 << 40, 1 << 40];
    }
    let e = refused(&m.encode_to_vec());
    assert!(e.contains("\"W\"") && e.contains("more than"), "{e}");
}
